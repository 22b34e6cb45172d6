#!/usr/bin/env bash
# Run daf_drf's whole test suite with pytest (pytest-django; settings in pyproject.toml).
#
#   scripts/run-tests.sh PYTHON [PYTEST_ARG...]
#
# Meant to run inside scripts/with-redis.sh, which provides DAF_DRF_TEST_REDIS_URL.
# Inside scripts/with-postgres.sh too (DAF_DRF_TEST_POSTGRES_DSN set), a second pass runs
# every test that touches a database again on PostgreSQL (DAF_DRF_TEST_DATABASE=postgres,
# DAF_DRF_TEST_DB_ONLY=1: see tests/databases.py); the exit code is non-zero when either
# pass fails.
# The exit code is pytest's, except that "no tests collected" (pytest's exit code 5) is a
# failure with a clear message: a suite that silently runs nothing must not pass.
set -euo pipefail

if [ "$#" -lt 1 ]; then
    echo "usage: $0 PYTHON [PYTEST_ARG...]" >&2
    exit 2
fi
python=$1
shift

cd "$(dirname "$0")/.."

if [ -z "${DAF_DRF_TEST_REDIS_URL:-}" ]; then
    echo "note: DAF_DRF_TEST_REDIS_URL is not set; the tests start their own redis-server." >&2
fi

echo "==> $("$python" --version) | Django $("$python" -c 'import django; print(django.__version__)')" \
     "| DRF $("$python" -c 'import rest_framework; print(rest_framework.__version__)')" \
     "| redis-py $("$python" -c 'import redis; print(redis.__version__)')"

# A module that fails to import is reported as an error, and the rest of the suite still runs,
# so one run shows every failure (the exit code is non-zero either way).
set +e
"$python" -m pytest --continue-on-collection-errors "$@"
status=$?
set -e

if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no tests (exit code 5); that counts as a failure." >&2
    exit 5
fi

if [ -n "${DAF_DRF_TEST_POSTGRES_DSN:-}" ] && [ -z "${DAF_DRF_TEST_DATABASE:-}" ]; then
    echo
    echo "==> second pass: the tests that touch a database, on PostgreSQL ($DAF_DRF_TEST_POSTGRES_DSN)"
    set +e
    DAF_DRF_TEST_DATABASE=postgres DAF_DRF_TEST_DB_ONLY=1 \
        "$python" -m pytest --continue-on-collection-errors "$@"
    pg_status=$?
    set -e
    if [ "$pg_status" -eq 5 ]; then
        echo "error: the PostgreSQL pass collected no tests (exit code 5); that counts as a failure." >&2
    fi
    if [ "$status" -eq 0 ]; then
        status=$pg_status
    fi
fi
exit "$status"
