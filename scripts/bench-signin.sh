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
# Pinning PostgreSQL needs root or its owner; its affinity is restored at
# the end. Results and method: docs/benchmarks.md, "Sign-in throughput".
#
#   bash scripts/bench-signin.sh [RUNS]     (default 3; about 1 min per run)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
ncpu=$(nproc)
work=$(mktemp -d)
bin=$work/roster.test
go test -c -o "$bin" ./internal/roster

bench() { # bench PATTERN [taskset CPU list]
	local cmd=("$bin" -test.run '^$' -test.bench "$1" -test.benchtime 1x -test.count "$runs")
	if [ -n "${2:-}" ]; then cmd=(taskset -c "$2" "${cmd[@]}"); fi
	"${cmd[@]}" | grep -E '^(Benchmark|cpu:)'
}

echo "== shared: the benchmark and the database on all $ncpu CPUs"
bench BenchmarkSignInThroughput

if [ "$ncpu" -lt 2 ]; then
	echo "== separate: needs at least 2 CPUs"; exit 0
fi
dsn=${ROSTER_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
pids=$(pgrep -x postgres || true)
case "$dsn" in
*@127.0.0.1[:/]* | *@localhost[:/]* | *@\[::1\][:/]* | *host=/*) local_pg=yes ;;
*) local_pg= ;;
esac
if [ -z "$local_pg" ] || [ -z "$pids" ]; then
	echo "== separate: PostgreSQL ($dsn) is not on this machine; the shared run above already had it apart"
	exit 0
fi

last=$((ncpu - 1))
app="0-$((ncpu - 2))"
declare -A masks
restore() {
	for pid in "${!masks[@]}"; do taskset -a -p "${masks[$pid]}" "$pid" >/dev/null 2>&1 || true; done
	rm -rf "$work"
}
trap restore EXIT
pinned=yes
for pid in $pids; do
	mask=$(taskset -p "$pid" 2>/dev/null | awk '{print $NF}') || continue
	# New backends are forked from the postmaster and inherit its CPUs.
	if taskset -a -p -c "$last" "$pid" >/dev/null 2>&1; then masks[$pid]=$mask; else pinned=; fi
done
if [ -z "$pinned" ]; then
	echo "== separate: could not pin every PostgreSQL process to CPU $last (run as root or as its owner)"
	exit 1
fi
echo "== separate: the benchmark on CPUs $app, PostgreSQL on CPU $last"
bench 'BenchmarkSignInThroughput/postgres' "$app"
