#!/usr/bin/env bash
# Run a command next to a throwaway redis-server, then stop the server.
#
#   scripts/with-redis.sh COMMAND [ARG...]
#
# The server listens on a free port of 127.0.0.1 with persistence off (no RDB snapshots, no
# AOF, working directory in a temporary folder) and its URL is exported as
# DAF_DRF_TEST_REDIS_URL. It is stopped by PID when the command ends, fails or is
# interrupted. The exit code is the command's.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/services.sh
. "$here/lib/services.sh"
require_command "$0" "$@"
"$here/ensure-redis.sh"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/daf_drf-redis.XXXXXX")
service_pid=""

stop_redis() {
    # SIGTERM, 5 s to exit, then SIGKILL.
    stop_by_pid "$service_pid" TERM 5
    rm -rf "$workdir"
}
stop_on_exit stop_redis

start_redis() {
    redis-server --bind 127.0.0.1 --port "$1" --save '' --appendonly no \
        --dir "$workdir" --daemonize no --loglevel warning \
        --logfile "$workdir/redis.log" &
    service_pid=$!
}

redis_ping() {
    # PING over bash's /dev/tcp; true when the server answers +PONG.
    local port=$1 reply=""
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 1 reply <&3 || true
    exec 3<&- 3>&-
    [ "${reply%$'\r'}" = "+PONG" ]
}

start_on_free_port redis-server start_redis redis_ping "$workdir/redis.log"

export DAF_DRF_TEST_REDIS_URL="redis://127.0.0.1:$service_port/0"
echo "==> throwaway $(redis-server --version | cut -d' ' -f1-3) on $DAF_DRF_TEST_REDIS_URL (pid $service_pid, persistence off)"

run_command "$@"
