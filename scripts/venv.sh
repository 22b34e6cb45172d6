#!/usr/bin/env bash
# Create a virtualenv if it is missing and install daf_drf into it (editable) with extras.
#
#   scripts/venv.sh VENV PYTHON EXTRAS [PIP_REQUIREMENT...]
#
#   VENV     directory of the virtualenv, e.g. .venv
#   PYTHON   interpreter used to create it when it does not exist yet, e.g. python3
#   EXTRAS   comma-separated extras of pyproject.toml, e.g. test,tasks ("" for none)
#   PIP_REQUIREMENT...  extra requirements installed in the same pip call, e.g. "Django~=5.2.0"
#
# The `tasks` extra is the django-tasks backport of `django.tasks`, which only Django 5.2
# needs (Django 6.x ships `django.tasks`). Python markers cannot see the Django version, so
# this script installs the other extras first and adds `tasks` only when Django is < 6.
#
# The install is skipped when nothing changed: a stamp file in the venv records a hash of
# pyproject.toml and of the arguments, so `make test` costs nothing the second time.
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: $0 VENV PYTHON EXTRAS [PIP_REQUIREMENT...]" >&2
    exit 2
fi

venv=$1
python=$2
extras=$3
shift 3

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ ! -x "$venv/bin/python" ]; then
    if ! command -v "$python" >/dev/null 2>&1 && [ ! -x "$python" ]; then
        echo "error: no Python interpreter '$python' to create $venv with." >&2
        exit 1
    fi
    echo "==> creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1

# install EXTRAS [REQ...]: one idempotent, stamped `pip install -e .[EXTRAS] REQ...`.
install() {
    local extras=$1 spec=. key stamp
    shift
    [ -n "$extras" ] && spec=".[$extras]"
    key=$( { cat pyproject.toml; printf '%s\n' "$extras" "$@"; } | sha256sum | cut -c1-16)
    stamp="$venv/.daf_drf-installed-$(printf '%s' "${extras:-none}" | tr ',' '-')"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
        return 0
    fi
    echo "==> pip install -e '$spec' $* (into $venv)"
    "$venv/bin/python" -m pip install --quiet -e "$spec" "$@"
    printf '%s\n' "$key" > "$stamp"
}

wants_tasks=0
rest=""
IFS=',' read -r -a parts <<< "$extras"
for part in "${parts[@]+"${parts[@]}"}"; do
    if [ "$part" = "tasks" ]; then
        wants_tasks=1
    elif [ -n "$part" ]; then
        rest="${rest:+$rest,}$part"
    fi
done

install "$rest" "$@"

if [ "$wants_tasks" = 1 ]; then
    if "$venv/bin/python" -c 'import sys, django; sys.exit(django.VERSION[0] >= 6)'; then
        install "${rest:+$rest,}tasks" "$@"
    fi
fi
