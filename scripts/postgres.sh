# Sourced by scripts/test.sh: makes sure a PostgreSQL answers at
# ROSTER_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test).
# When none does, it starts a throwaway cluster from the installed server
# binaries (initdb in a temporary folder, a free port on 127.0.0.1, trust
# auth, fsync off), exports ROSTER_TEST_POSTGRES for the run and tears the
# cluster down when the calling shell exits. Without binaries it says what
# to install and fails: the store tests never skip PostgreSQL.

pg_default_url='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
pg_url=${ROSTER_TEST_POSTGRES:-$pg_default_url}

# pg_answers URL: a server accepts connections there. pg_isready (from the
# client package) when installed, else a TCP connect to host:port.
pg_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -t 3 -d "$1" >/dev/null 2>&1
    return
  fi
  local hostport=${1#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}; hostport=${hostport%%\?*}
  local host=${hostport%:*} port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=5432
  timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# pg_bindir: the folder holding initdb and pg_ctl, newest version first.
pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null)
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin /usr/pgsql-*/bin /opt/homebrew/opt/postgresql*/bin /usr/local/opt/postgresql*/bin 2>/dev/null | sort -rV); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

# free_port: a port on 127.0.0.1 nobody listens on.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null; then
      echo "$p"; return
    fi
  done
  return 1
}

start_throwaway_postgres() {
  local bin port tmp as=()
  bin=$(pg_bindir)
  if [ -z "$bin" ]; then
    cat >&2 <<MSG
No PostgreSQL answers at $pg_url, and no PostgreSQL server binaries
(initdb, pg_ctl) are installed to start a throwaway one. The store tests run on
SQLite and PostgreSQL and do not skip it. Either
  - install the server: Debian/Ubuntu: apt-get install postgresql
    (Fedora: dnf install postgresql-server postgresql-contrib; macOS: brew install postgresql)
    and run scripts/test.sh again: it starts its own cluster, or
  - point ROSTER_TEST_POSTGRES at a server you run (trust auth, a database the tests
    may create schemas in, the pg_trgm and btree_gin extensions available).
MSG
    return 1
  fi
  port=$(free_port) || { echo "no free port on 127.0.0.1 for PostgreSQL" >&2; return 1; }
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/roster-test-pg.XXXXXX")
  # initdb and postgres refuse to run as root: run them as an unprivileged
  # user (postgres when the packages made one, else nobody).
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$tmp"
    as=(runuser -u "$user" --)
  fi
  PG_THROWAWAY_DIR=$tmp PG_THROWAWAY_BIN=$bin
  PG_THROWAWAY_AS=("${as[@]}")
  trap stop_throwaway_postgres EXIT
  echo "== no PostgreSQL at $pg_url; starting a throwaway cluster ($bin) on 127.0.0.1:$port"
  if ! "${as[@]}" "$bin/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$tmp/initdb.log" 2>&1 &&
     ! "${as[@]}" "$bin/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1; then
    cat "$tmp/initdb.log" >&2; return 1
  fi
  # fsync off: the cluster is thrown away. synchronous_commit stays on: a
  # store test checks that sign-ins turn it off for themselves only.
  if ! "${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
      -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null; then
    cat "$tmp/server.log" >&2; return 1
  fi
  "${as[@]}" "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null 2>&1 ||
    "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test || return 1
  export ROSTER_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/test?sslmode=disable"
  echo "== ROSTER_TEST_POSTGRES=$ROSTER_TEST_POSTGRES (removed at exit)"
}

stop_throwaway_postgres() {
  [ -n "${PG_THROWAWAY_DIR:-}" ] || return 0
  "${PG_THROWAWAY_AS[@]}" "$PG_THROWAWAY_BIN/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_THROWAWAY_DIR"
  PG_THROWAWAY_DIR=
}

ensure_postgres() {
  if pg_answers "$pg_url"; then
    export ROSTER_TEST_POSTGRES=$pg_url
    return 0
  fi
  start_throwaway_postgres
}
