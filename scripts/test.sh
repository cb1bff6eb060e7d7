#!/usr/bin/env bash
# The whole check, as CI runs it: lint, format, then the test suite on SQLite and again on
# PostgreSQL (started here if it is not running). Exits non-zero if any step fails.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --tests || exit 1

failed=()
step() {
    local name="$1"
    shift
    echo
    echo "=== $name"
    "$@"
    local rc=$?
    # pytest's 5 ("no tests collected") is a failure too: any non-zero status is.
    if [ "$rc" -ne 0 ]; then
        echo "=== $name: FAILED (exit $rc)"
        failed+=("$name")
    fi
}

# Tests never see the developer's data directory, key file or environment keys.
GALLRA_DATA="$(mktemp -d)"
export GALLRA_DATA
trap 'rm -rf "$GALLRA_DATA"' EXIT
unset GALLRA_POLICY GALLRA_KEY_FILE GALLRA_SECRET_KEY GALLRA_MASTER_KEY GALLRA_PSEUDONYM_KEY

step "ruff check" .venv/bin/ruff check .
step "ruff format --check" .venv/bin/ruff format --check .
step "pytest (SQLite)" env -u GALLRA_DATABASE_URL .venv/bin/pytest -q -p no:cacheprovider

start_postgres() {
    if pg_isready -q -h 127.0.0.1; then
        return 0
    fi
    echo "starting PostgreSQL"
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
    for _ in $(seq 30); do
        pg_isready -q -h 127.0.0.1 && return 0
        sleep 1
    done
    echo "PostgreSQL did not come up" >&2
    return 1
}
step "start PostgreSQL" start_postgres
# pytest-django creates (and drops) the database test_test next to `test`.
step "pytest (PostgreSQL)" env GALLRA_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
    .venv/bin/pytest -q -p no:cacheprovider

echo
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all checks passed"
