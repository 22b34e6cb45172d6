#!/usr/bin/env bash
# Make sure the `wrk` load generator exists (for `make bench`): install Debian's `wrk` package
# with apt-get when running as root, otherwise stop with a message that names the package.
set -euo pipefail

# shellcheck source=lib/services.sh
. "$(cd "$(dirname "$0")" && pwd)/lib/services.sh"

if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if ! can_apt_install; then
    echo "error: \`wrk\` is not installed; install the \`wrk\` package (e.g. sudo apt-get install wrk)." >&2
    exit 1
fi
echo "==> wrk not found: installing Debian's wrk package"
apt_install wrk curl
