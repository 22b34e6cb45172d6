#!/usr/bin/env bash
# Print the path of a working Python interpreter of the given minor version.
#
#   scripts/find-python.sh 3.12
#
# Looks on PATH (pythonX.Y), then in pyenv's versions folder, then in the usual prefixes.
# A candidate counts only if it runs and reports that version: a pyenv shim for a version
# that is not activated exists on PATH but fails when run.
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 X.Y" >&2
    exit 2
fi
want=$1

candidates=()
if found=$(command -v "python$want" 2>/dev/null); then
    candidates+=("$found")
fi
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
for dir in "$pyenv_root"/versions/"$want".* /root/.pyenv/versions/"$want".*; do
    [ -x "$dir/bin/python$want" ] && candidates+=("$dir/bin/python$want")
done
for prefix in /usr/local/bin /usr/bin /opt/homebrew/bin; do
    [ -x "$prefix/python$want" ] && candidates+=("$prefix/python$want")
done

for candidate in "${candidates[@]+"${candidates[@]}"}"; do
    got=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    if [ "$got" = "$want" ] && "$candidate" -c 'import venv, ssl, sqlite3' 2>/dev/null; then
        # Print the real interpreter, not a shim or a symlink farm in front of it.
        "$candidate" -c 'import sys; print(sys.executable)'
        exit 0
    fi
done

echo "error: no working Python $want found (looked for python$want on PATH, in" \
     "$pyenv_root/versions/$want.*, /usr/local/bin and /usr/bin)." >&2
echo "       Install it (e.g. \`pyenv install $want\` or your distribution's python$want" \
     "package with its venv module) or set MATRIX_PYTHON." >&2
exit 1
