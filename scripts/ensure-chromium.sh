#!/usr/bin/env bash
# Make sure Debian's `chromium` exists, for the headless-browser test (tests/test_browser.py).
#
# When it is missing and we run as root with apt-get, install the `chromium` package. Otherwise
# say so and exit 0: the browser test then skips itself and names the reason. Never fails the
# run that calls it.
set -uo pipefail

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: chromium is not installed (apt-get install chromium); the browser test will skip." >&2
    exit 0
fi
echo "==> chromium not found: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
if ! timeout 600 apt-get install -y -q --no-install-recommends chromium >/dev/null; then
    timeout 300 apt-get update -q >/dev/null || true
    timeout 600 apt-get install -y -q --no-install-recommends chromium >/dev/null || \
        echo "note: could not install chromium; the browser test will skip." >&2
fi
exit 0
