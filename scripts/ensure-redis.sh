#!/usr/bin/env bash
# Make sure a `redis-server` binary exists.
#
# When it is missing and we run as root on Debian/Ubuntu, install Debian's `redis-server`
# package with apt-get without starting the system service (the test harness starts its own
# throwaway server). Otherwise stop with a message that names the package.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    cat >&2 <<'MSG'
error: `redis-server` is not installed, and it is needed to run daf_drf's tests
       (they use a real, throwaway Redis server on 127.0.0.1).
       Install the `redis-server` package, e.g. on Debian/Ubuntu:
           sudo apt-get install redis-server
       (or `brew install redis` on macOS), then run `make test` again.
MSG
    exit 1
fi

echo "==> redis-server not found: installing Debian's redis-server package"
# Keep the package's init script from starting a system-wide Redis on port 6379: the tests
# start their own server. policy-rc.d exit code 101 means "action forbidden". Only add the
# file when the machine has none, and remove it again afterwards.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    added_policy=1
fi
cleanup() {
    if [ "$added_policy" = 1 ]; then
        rm -f "$policy"
    fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends redis-server

if ! command -v redis-server >/dev/null 2>&1; then
    echo "error: installed the redis-server package but no redis-server binary is on PATH." >&2
    exit 1
fi
echo "==> $(redis-server --version)"
