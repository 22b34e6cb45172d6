# Shell helpers shared by the scripts that install and run throwaway services
# (ensure-redis.sh, ensure-postgres.sh, ensure-wrk.sh, with-redis.sh, with-postgres.sh).
#
#   . "$(dirname "$0")/lib/services.sh"
#
# Sourced, never run. Every wait is bounded; every server is stopped by its PID.

# require_command SCRIPT [COMMAND...]: exit 2 with SCRIPT's usage line when no COMMAND is given.
require_command() {
    if [ "$#" -lt 2 ]; then
        echo "usage: $1 COMMAND [ARG...]" >&2
        exit 2
    fi
}

# can_apt_install: true when we run as root on a machine with apt-get.
can_apt_install() {
    [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1
}

# apt_install PACKAGE...: install Debian packages without starting their system services
# (the harness starts its own throwaway servers). policy-rc.d exit code 101 means "action
# forbidden"; the file is only added when the machine has none, and removed again afterwards,
# also when the script is interrupted (an EXIT trap: for scripts that set none of their own).
apt_install() {
    local policy=/usr/sbin/policy-rc.d added=0 status=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod +x "$policy"
        added=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -q || status=$?
    if [ "$status" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
            || status=$?
    fi
    if [ "$added" = 1 ]; then
        rm -f "$policy"
        trap - EXIT
    fi
    return "$status"
}

# free_port: print a free TCP port of 127.0.0.1 (asks the kernel; Python is there, the
# project needs it).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_gone PID SECONDS: true once PID has exited, polling every 0.1 s for at most SECONDS.
wait_gone() {
    local pid=$1 tries=$(( $2 * 10 ))
    for _ in $(seq "$tries"); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

# stop_by_pid PID [SIGNAL [SECONDS [THEN]]]: send SIGNAL (default TERM), wait up to SECONDS
# (default 5) for PID to exit; then send THEN, if given, and wait 1 s more; then SIGKILL.
# Reaps PID when it is a child of this shell. Does nothing for an empty or exited PID.
stop_by_pid() {
    local pid=$1 signal=${2:-TERM} seconds=${3:-5} then=${4:-}
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "-$signal" "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$seconds"; then
            if [ -n "$then" ]; then
                kill "-$then" "$pid" 2>/dev/null || true
                wait_gone "$pid" 1 || true
            fi
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    if [ -n "$pid" ]; then
        wait "$pid" 2>/dev/null || true
    fi
}

# start_on_free_port NAME START READY LOG [SIGNAL]: up to 5 times, pick a free loopback port,
# call `START PORT` (which starts the server in the background of this shell and sets
# service_pid), and poll `READY PORT` every 0.05 s for up to 10 s or until the server exits.
# On success set service_port. A port taken between the probe and the server's bind is
# retried on another: the failed attempt's server is stopped with SIGNAL (default TERM) and
# the tail of LOG is shown. Returns 1 when no attempt came up.
start_on_free_port() {
    local name=$1 start=$2 ready=$3 log=$4 signal=${5:-TERM} candidate attempt
    service_port=""
    for attempt in 1 2 3 4 5; do
        candidate=$(free_port)
        service_pid=""
        "$start" "$candidate"
        for _ in $(seq 200); do
            if "$ready" "$candidate"; then
                service_port=$candidate
                return 0
            fi
            kill -0 "$service_pid" 2>/dev/null || break
            sleep 0.05
        done
        echo "warning: $name did not start on port $candidate (attempt $attempt):" >&2
        tail -n 5 "$log" >&2 2>/dev/null || true
        stop_by_pid "$service_pid" "$signal"
        service_pid=""
    done
    echo "error: could not start a throwaway $name on 127.0.0.1." >&2
    return 1
}

# stop_on_exit FUNCTION: run FUNCTION when the script ends, fails or is interrupted (exit
# codes 130 for SIGINT, 143 for SIGTERM).
stop_on_exit() {
    # shellcheck disable=SC2064  # expand FUNCTION now
    trap "$1" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# run_command COMMAND [ARG...]: run the command and exit with its exit code (the EXIT trap
# then stops the servers).
run_command() {
    local status
    set +e
    "$@"
    status=$?
    set -e
    exit "$status"
}
