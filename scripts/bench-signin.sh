#!/usr/bin/env bash
# Sign-in throughput next to argon2id hashing alone (issue 3's bar: at least
# 0.9 of the hashing-only rate), measured in two layouts on this machine:
#
#   shared    the benchmark and the local PostgreSQL share every CPU: the
#             embedded SQLite case, and a database co-located with Roster;
#   separate  the benchmark on every CPU but the last, PostgreSQL's processes
#             on the last one: the database on a machine of its own, as a
#             PostgreSQL deployment has it, emulated with CPU affinity.
#
# Both layouts compare sign-ins with hashing alone under the same CPUs, so
# each ratio says what a sign-in costs beyond its hash where Roster runs.
# Pinning PostgreSQL needs root or its owner, and psql to find the server
# of ROSTER_TEST_POSTGRES; its CPUs are given back at the end. Results and
# method: docs/benchmarks.md, "Sign-in throughput".
#
#   bash scripts/bench-signin.sh [RUNS]     (default 3; about 3 min per run)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
ncpu=$(nproc)
work=$(mktemp -d)
postmaster= mask=
restore() {
	if [ -n "$postmaster" ]; then
		# The postmaster and every process it has now, backends forked
		# while it was pinned included; those gone since are skipped.
		for pid in "$postmaster" $(pgrep -P "$postmaster" || true); do
			taskset -a -p "$mask" "$pid" >/dev/null 2>&1 || true
		done
	fi
	rm -rf "$work"
}
trap restore EXIT
bin=$work/roster.test
go test -c -o "$bin" ./internal/roster

bench() { # bench PATTERN [CPU list for taskset]
	local cmd=("$bin" -test.run '^$' -test.bench "$1" -test.benchtime 1x -test.count "$runs")
	if [ -n "${2:-}" ]; then cmd=(taskset -c "$2" "${cmd[@]}"); fi
	if ! "${cmd[@]}" >"$work/log" 2>&1; then
		cat "$work/log"
		return 1
	fi
	grep -E '^(Benchmark|cpu:)' "$work/log"
}

echo "== shared: the benchmark and the database on all $ncpu CPUs"
bench BenchmarkSignInThroughput

if [ "$ncpu" -lt 2 ]; then
	echo "== separate: needs at least 2 CPUs"
	exit 0
fi
dsn=${ROSTER_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
if ! command -v psql >/dev/null; then
	echo "== separate: needs psql to find the PostgreSQL server of $dsn"
	exit 0
fi
# The server's own record of its postmaster: found only when it runs here.
datadir=$(psql "$dsn" -Atc "SELECT current_setting('data_directory')")
if [ -r "$datadir/postmaster.pid" ]; then
	postmaster=$(head -1 "$datadir/postmaster.pid")
fi
if [ -z "$postmaster" ] || ! kill -0 "$postmaster" 2>/dev/null; then
	postmaster=
	echo "== separate: PostgreSQL ($dsn) does not run on this machine; the shared run above already had it apart"
	exit 0
fi

last=$((ncpu - 1))
app="0-$((ncpu - 2))"
mask=$(taskset -p "$postmaster" | awk '{print $NF}')
# New backends are forked from the postmaster and inherit its CPUs.
for pid in "$postmaster" $(pgrep -P "$postmaster"); do
	if ! taskset -a -p -c "$last" "$pid" >/dev/null 2>&1 && kill -0 "$pid" 2>/dev/null; then
		echo "== separate: could not pin PostgreSQL process $pid to CPU $last (run as root or as its owner)"
		exit 1
	fi
done
echo "== separate: the benchmark on CPUs $app, PostgreSQL (postmaster $postmaster) on CPU $last"
bench 'BenchmarkSignInThroughput/postgres' "$app"
