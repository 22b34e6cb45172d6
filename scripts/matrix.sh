#!/usr/bin/env bash
# Run the whole suite on the oldest or the newest supported combination, each in its own
# virtualenv (.venv-oldest / .venv-newest) and next to its own throwaway redis-server.
#
#   scripts/matrix.sh oldest    Python 3.11, Django 5.2.x, DRF 3.16.x, redis-py 5.2.x
#   scripts/matrix.sh newest    Python 3.12, Django 6.1.x, DRF 3.18.x, and the newest release
#                               of every other dependency, upgraded on every run
#   scripts/matrix.sh locked    Python 3.12 and exactly ci/requirements-lock.txt (known good)
#
# `newest` prints the versions it resolved and, when the suite fails, how they differ from the
# lock (scripts/lock_diff.py): a failure there with `locked` green is upstream drift.
# MATRIX_PYTHON overrides the interpreter. Extra arguments go to pytest.
#
# The soak test runs for 20 s here (SOAK_SECONDS, unless set): its full 60 s run is in
# `make test`, and these legs are about versions, not endurance. It keeps its assertions.
set -euo pipefail

export SOAK_SECONDS=${SOAK_SECONDS:-20}

if [ "$#" -lt 1 ]; then
    echo "usage: $0 oldest|newest|locked [PYTEST_ARG...]" >&2
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
    locked)
        version=3.12
        pins=()
        ;;
    *)
        echo "error: unknown combination '$which' (expected oldest, newest or locked)" >&2
        exit 2
        ;;
esac

python=${MATRIX_PYTHON:-}
if [ -z "$python" ]; then
    python=$("$here/find-python.sh" "$version")
fi

venv=.venv-$which
lock=ci/requirements-lock.txt
case "$which" in
    oldest)
        echo "==> matrix '$which': $python, ${pins[*]}"
        "$here/venv.sh" "$venv" "$python" test,tasks "${pins[@]}"
        ;;
    newest)
        # Every run upgrades every dependency to its newest release (within pyproject.toml's
        # bounds), so upstream drift shows up here first, and only here.
        echo "==> matrix '$which': $python, ${pins[*]}, everything else at its newest release"
        [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade --upgrade-strategy eager \
            -e ".[test]" "${pins[@]}"
        ;;
    locked)
        echo "==> matrix '$which': $python, exactly $lock"
        [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet -r "$lock"
        "$venv/bin/python" -m pip install --quiet --no-deps -e .
        "$venv/bin/python" -m pip check
        "$venv/bin/python" scripts/check_lock.py test
        ;;
esac
if [ "$which" = newest ]; then
    echo "==> resolved versions:"
    "$venv/bin/python" -m pip freeze --exclude-editable | sed 's/^/    /'
    status=0
    "$here/with-redis.sh" "$here/run-tests.sh" "$venv/bin/python" "$@" || status=$?
    if [ "$status" -ne 0 ]; then
        "$venv/bin/python" "$here/lock_diff.py" "$lock" || true
    fi
    exit "$status"
fi
exec "$here/with-redis.sh" "$here/run-tests.sh" "$venv/bin/python" "$@"
