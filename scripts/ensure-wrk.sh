#!/usr/bin/env bash
# Make sure the `wrk` load generator exists (for `make bench`): install Debian's `wrk` package
# with apt-get when running as root, otherwise stop with a message that names the package.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: \`wrk\` is not installed; install the \`wrk\` package (e.g. sudo apt-get install wrk)." >&2
    exit 1
fi
echo "==> wrk not found: installing Debian's wrk package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends wrk curl
