#!/usr/bin/env bash
# Print the directory of PostgreSQL's server binaries (`initdb`, `postgres`, `pg_isready`).
#
#   bindir=$(scripts/ensure-postgres.sh)
#
# Looks at PG_BINDIR, then Debian's /usr/lib/postgresql/<version>/bin (newest version first),
# then `pg_config --bindir`, then `initdb` on PATH. When none is found and we run as root on
# Debian/Ubuntu, installs Debian's `postgresql` package with apt-get without starting its
# system service (the test harness starts its own throwaway server). Otherwise stops with a
# message that names the package.
set -euo pipefail

# shellcheck source=lib/services.sh
. "$(cd "$(dirname "$0")" && pwd)/lib/services.sh"

find_bindir() {
    local dir
    if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then
        echo "$PG_BINDIR"
        return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
            echo "$dir"
            return 0
        fi
    fi
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

if find_bindir; then
    exit 0
fi

if ! can_apt_install; then
    cat >&2 <<'MSG'
error: PostgreSQL's server (`initdb`, `postgres`) is not installed, and it is needed to run
       daf_drf's tests (they use a real, throwaway PostgreSQL server on 127.0.0.1).
       Install the `postgresql` package, e.g. on Debian/Ubuntu:
           sudo apt-get install postgresql
       (or `brew install postgresql` on macOS; or set PG_BINDIR to the directory holding
       `initdb`), then run `make test` again.
MSG
    exit 1
fi

echo "==> PostgreSQL not found: installing Debian's postgresql package" >&2
apt_install postgresql >&2

if ! find_bindir; then
    echo "error: installed the postgresql package but found no initdb binary." >&2
    exit 1
fi
