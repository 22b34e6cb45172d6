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

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
"$here/ensure-redis.sh"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/daf_drf-redis.XXXXXX")
redis_pid=""

stop_redis() {
    if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
        kill -TERM "$redis_pid" 2>/dev/null || true
        # Give it a few seconds to exit, then insist.
        for _ in $(seq 50); do
            kill -0 "$redis_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$redis_pid" 2>/dev/null; then
            kill -KILL "$redis_pid" 2>/dev/null || true
        fi
        wait "$redis_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap stop_redis EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    # Ask the kernel for a free loopback port. Python is there: the project needs it.
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
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

port=""
for attempt in 1 2 3 4 5; do
    candidate=$(free_port)
    redis-server --bind 127.0.0.1 --port "$candidate" --save '' --appendonly no \
        --dir "$workdir" --daemonize no --loglevel warning \
        --logfile "$workdir/redis.log" &
    redis_pid=$!
    for _ in $(seq 100); do
        if redis_ping "$candidate"; then
            port=$candidate
            break
        fi
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -n "$port" ]; then
        break
    fi
    # The port was taken between our probe and redis' bind, or the server did not come up.
    echo "warning: redis-server did not start on port $candidate (attempt $attempt):" >&2
    tail -n 5 "$workdir/redis.log" >&2 2>/dev/null || true
    stop_redis_pid=$redis_pid
    kill -TERM "$stop_redis_pid" 2>/dev/null || true
    wait "$stop_redis_pid" 2>/dev/null || true
    redis_pid=""
done

if [ -z "$port" ]; then
    echo "error: could not start a throwaway redis-server on 127.0.0.1." >&2
    exit 1
fi

export DAF_DRF_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
echo "==> throwaway $(redis-server --version | cut -d' ' -f1-3) on $DAF_DRF_TEST_REDIS_URL (pid $redis_pid, persistence off)"

set +e
"$@"
status=$?
set -e
exit "$status"
