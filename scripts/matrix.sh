#!/usr/bin/env bash
# Run the whole suite on the oldest or the newest supported combination, each in its own
# virtualenv (.venv-oldest / .venv-newest) and next to its own throwaway redis-server.
#
#   scripts/matrix.sh oldest    Python 3.11, Django 5.2.x, DRF 3.16.x, redis-py 5.2.x
#   scripts/matrix.sh newest    Python 3.12, Django 6.1.x, DRF 3.18.x, newest redis-py
#
# MATRIX_PYTHON overrides the interpreter. Extra arguments go to pytest.
set -euo pipefail

if [ "$#" -lt 1 ]; then
    echo "usage: $0 oldest|newest [PYTEST_ARG...]" >&2
    exit 2
fi
which=$1
shift

here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

case "$which" in
    oldest)
        version=3.11
        pins=("Django>=5.2,<5.3" "djangorestframework>=3.16,<3.17" "redis>=5.2,<5.3")
        ;;
    newest)
        version=3.12
        pins=("Django>=6.1,<6.2" "djangorestframework>=3.18,<3.19" "redis>=8.1")
        ;;
    *)
        echo "error: unknown combination '$which' (expected oldest or newest)" >&2
        exit 2
        ;;
esac

python=${MATRIX_PYTHON:-}
if [ -z "$python" ]; then
    python=$("$here/find-python.sh" "$version")
fi

venv=.venv-$which
echo "==> matrix '$which': $python, ${pins[*]}"
"$here/venv.sh" "$venv" "$python" test,tasks "${pins[@]}"
exec "$here/with-redis.sh" "$here/run-tests.sh" "$venv/bin/python" "$@"
