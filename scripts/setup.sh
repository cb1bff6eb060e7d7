#!/usr/bin/env bash
# Set up (or bring up to date) the development environment: .venv with gallra installed
# editable, its pinned dependencies (constraints.txt) and the dev tools. Idempotent: when
# nothing changed since the last run it does nothing and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages gallra needs on the machine. None yet besides what a Debian system with
# Python 3.11 has; list them here when a feature needs one (they are installed only if missing).
DEBIAN_PACKAGES=()

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

if [ -x .venv/bin/python ] && ! python_ok .venv/bin/python; then
    echo "setup: .venv has Python older than 3.11; remove it (rm -rf .venv) and run again" >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    python=""
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null && python_ok "$candidate"; then
            python="$candidate"
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "setup: gallra needs Python 3.11 or newer (python3.11 or python3)" >&2
        exit 2
    fi
    echo "setup: creating .venv with $("$python" --version)"
    "$python" -m venv .venv
fi

# Reinstall only when what decides the installation changed.
stamp=.venv/.gallra-setup
wanted="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x .venv/bin/gallra ]; then
    echo "setup: .venv is up to date"
    exit 0
fi
echo "setup: installing gallra and its dependencies into .venv"
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
echo "$wanted" > "$stamp"
echo "setup: done"
