#!/usr/bin/env bash
# Make sure a `redis-server` binary exists.
#
# When it is missing and we run as root on Debian/Ubuntu, install Debian's `redis-server`
# package with apt-get without starting the system service (the test harness starts its own
# throwaway server). Otherwise stop with a message that names the package.
set -euo pipefail

# shellcheck source=lib/services.sh
. "$(cd "$(dirname "$0")" && pwd)/lib/services.sh"

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

if ! can_apt_install; then
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
apt_install redis-server

if ! command -v redis-server >/dev/null 2>&1; then
    echo "error: installed the redis-server package but no redis-server binary is on PATH." >&2
    exit 1
fi
echo "==> $(redis-server --version)"
