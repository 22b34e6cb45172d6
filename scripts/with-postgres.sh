#!/usr/bin/env bash
# Run a command next to a throwaway PostgreSQL server, then stop the server.
#
#   scripts/with-postgres.sh COMMAND [ARG...]
#
# `initdb` creates a cluster in a temporary folder, owned by an unprivileged user when we run
# as root (the `postgres` system user when it exists, else `nobody`). The server listens on a
# free port of 127.0.0.1 only, with no unix socket, trust authentication for the superuser
# `daf_drf`, and durability off (fsync, synchronous_commit, full_page_writes): it is a test
# server, thrown away with its folder. It is stopped by PID when the command ends, fails or
# is interrupted. The exit code is the command's.
#
# Exported to the command:
#   DAF_DRF_TEST_POSTGRES_DSN  postgresql://daf_drf@127.0.0.1:PORT/daf_drf (database created)
#   PGHOST, PGPORT, PGUSER, PGDATABASE  the same, for psql, pg_dump and libpq defaults
#
# Settings: DAF_DRF_PG_MAX_CONNECTIONS (default 100, PostgreSQL's own default), PG_BINDIR.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"
require_command "$0" "$@"
bindir=$("$here/ensure-postgres.sh")
max_connections=${DAF_DRF_PG_MAX_CONNECTIONS:-100}

# PostgreSQL refuses to run as root: drop to an unprivileged user for initdb and the server.
as_user=()
if [ "$(id -u)" = "0" ]; then
    pg_user=postgres
    id "$pg_user" >/dev/null 2>&1 || pg_user=nobody
    if command -v setpriv >/dev/null 2>&1; then
        # setpriv execs the command: the PID of the background job is the server's own.
        as_user=(setpriv "--reuid=$pg_user" "--regid=$(id -g "$pg_user")" --init-groups --)
    else
        as_user=(runuser -u "$pg_user" --)
    fi
    # A folder every user can reach (root's TMPDIR may not be).
    workdir=$(mktemp -d /tmp/daf_drf-postgres.XXXXXX)
    chown "$pg_user" "$workdir"
else
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/daf_drf-postgres.XXXXXX")
fi
datadir=$workdir/data
logfile=$workdir/postgres.log
service_pid=""

server_pid() {
    # The postmaster's PID from its pid file (first line), else the background job's.
    local pid=""
    if [ -r "$datadir/postmaster.pid" ]; then
        pid=$(head -n 1 "$datadir/postmaster.pid" 2>/dev/null || true)
    fi
    echo "${pid:-$service_pid}"
}

stop_postgres() {
    # SIGINT is PostgreSQL's "fast" shutdown: it ends open sessions and exits; SIGQUIT
    # ("immediate") after 10 s, then SIGKILL.
    stop_by_pid "$(server_pid)" INT 10 QUIT
    # The background job (setpriv or runuser) when it is not the server itself.
    stop_by_pid "$service_pid" INT 5
    service_pid=""
    rm -rf "$workdir"
}
stop_on_exit stop_postgres

if ! "${as_user[@]}" "$bindir/initdb" --pgdata="$datadir" --username=daf_drf --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$workdir/initdb.log" 2>&1; then
    echo "error: initdb failed:" >&2
    tail -n 20 "$workdir/initdb.log" >&2
    exit 1
fi

start_postgres() {
    "${as_user[@]}" "$bindir/postgres" -D "$datadir" \
        -c listen_addresses=127.0.0.1 -c port="$1" -c unix_socket_directories= \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections="$max_connections" >"$logfile" 2>&1 &
    service_pid=$!
}

postgres_ready() {
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$1" -t 1
}

start_on_free_port PostgreSQL start_postgres postgres_ready "$logfile" INT
port=$service_port

"$bindir/createdb" -h 127.0.0.1 -p "$port" -U daf_drf daf_drf

export PGHOST=127.0.0.1 PGPORT=$port PGUSER=daf_drf PGDATABASE=daf_drf
export DAF_DRF_TEST_POSTGRES_DSN="postgresql://daf_drf@127.0.0.1:$port/daf_drf"
echo "==> throwaway PostgreSQL $("$bindir/postgres" --version | cut -d" " -f3) on $DAF_DRF_TEST_POSTGRES_DSN" \
     "(pid $(server_pid), fsync off, max_connections $max_connections)"

run_command "$@"
