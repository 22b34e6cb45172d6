#!/usr/bin/env bash
# Serve the example project with uvicorn, with zero external services.
#
#   scripts/demo.sh PYTHON        (HOST and PORT from the environment; 127.0.0.1:8000)
#
# Migrates the example's SQLite database, seeds it when the example ships a `seed_demo`
# management command, prints the URLs to try, then runs uvicorn in the foreground.
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 PYTHON" >&2
    exit 2
fi
python=$1
host=${HOST:-127.0.0.1}
port=${PORT:-8000}

cd "$(dirname "$0")/.."

if [ ! -f example/asgi.py ] || [ ! -f example/settings.py ]; then
    echo "error: example/asgi.py and example/settings.py are needed to run the demo." >&2
    exit 1
fi

# The example package is imported from the repository root.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export DJANGO_SETTINGS_MODULE=example.settings

django_admin() {
    "$python" -m django "$@" --settings=example.settings
}

if ! "$python" -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], int(sys.argv[2]))); s.close()' "$host" "$port" 2>/dev/null; then
    echo "error: $host:$port is already in use. Stop what listens there, or pick another port:" >&2
    echo "       make demo PORT=8001" >&2
    exit 1
fi

echo "==> migrating the demo database (SQLite)"
django_admin migrate --noinput -v 0

# Seed data if the example provides a command for it.
for cmd in seed_demo seed; do
    if compgen -G "example/management/commands/$cmd.py" >/dev/null ||
        compgen -G "example/*/management/commands/$cmd.py" >/dev/null; then
        echo "==> seeding demo data ($cmd)"
        django_admin "$cmd"
        break
    fi
done

base="http://$host:$port"
echo
echo "daf_drf demo on $base/  (Ctrl-C stops it)"
echo
if [ -f example/URLS.txt ]; then
    # Lines may use {base} for the server's address.
    sed "s#{base}#$base#g" example/URLS.txt
else
    echo "Try:"
    echo "  $base/"
fi
echo

exec "$python" -m uvicorn example.asgi:application --host "$host" --port "$port"
