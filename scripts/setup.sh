#!/usr/bin/env bash
# Set up (or bring up to date) the development environment: .venv with gallra installed
# editable, its pinned dependencies (constraints.txt) and the dev tools. Idempotent: when
# nothing changed since the last run it does nothing and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

# `setup.sh` prepares running gallra; `setup.sh --tests` also what the test suite needs.
for_tests=""
if [ "${1:-}" = "--tests" ]; then for_tests=1; fi

# Debian packages, installed only if missing: restic for the backups (the demo makes its
# first backup too). For the tests: chromium for the browser tests (driven by Playwright,
# no browser download), npm for axe-core.
DEBIAN_PACKAGES=(restic)
if [ -n "$for_tests" ]; then
    DEBIAN_PACKAGES+=(chromium)
    # acl (getfacl/setfacl) for the home-directory tests on a real ext4 image; a real
    # Dovecot for the IMAP mailbox tests (started privately by the tests, on loopback).
    DEBIAN_PACKAGES+=(acl e2fsprogs dovecot-imapd)
    # OpenLDAP's slapd for the `gallra sync` tests (a private server on loopback, started by
    # the tests; the system's own instance is not used), and its client tools.
    DEBIAN_PACKAGES+=(slapd ldap-utils)
    # zsh, to check that `gallra completion zsh` loads in it.
    DEBIAN_PACKAGES+=(zsh)
    # pg_dump and pg_restore for the PostgreSQL restore drill.
    command -v pg_dump >/dev/null || DEBIAN_PACKAGES+=(postgresql-client)
    command -v npm >/dev/null || DEBIAN_PACKAGES+=(npm)
fi

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

# axe-core, the accessibility checker the browser tests run in the page, from the npm
# registry (exact version: the checks must not change under us).
AXE_VERSION=4.14.1
if [ -n "$for_tests" ] && { [ ! -f .venv/npm/node_modules/axe-core/axe.min.js ] \
    || ! grep -q "\"version\": \"$AXE_VERSION\"" .venv/npm/node_modules/axe-core/package.json; }; then
    echo "setup: installing axe-core $AXE_VERSION into .venv/npm"
    npm install --prefix .venv/npm --no-audit --no-fund --silent "axe-core@$AXE_VERSION"
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
