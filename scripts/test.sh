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

# Tests never see the developer's data directory, key file or environment keys. Each run of
# the suite has a data directory and pytest temporary folder of its own (scratch/).
scratch="$(mktemp -d)"
running=()
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$scratch"' EXIT
unset GALLRA_POLICY GALLRA_KEY_FILE GALLRA_SECRET_KEY GALLRA_MASTER_KEY GALLRA_PSEUDONYM_KEY

step "ruff check" .venv/bin/ruff check .
step "ruff format --check" .venv/bin/ruff format --check .

# The SQLite and the PostgreSQL run go at the same time, each in parallel worker processes
# (pytest-xdist; docs/testing.md says why and how many). Each one's output is kept in a file
# and shown whole when both have ended, SQLite's first.
SQLITE_WORKERS="${GALLRA_TEST_WORKERS:-3}"
POSTGRES_WORKERS="${GALLRA_TEST_WORKERS:-2}"
suite() {  # suite NAME WORKERS ENV-ARGS...: start pytest in the background
    local name="$1" workers="$2"
    shift 2
    mkdir -p "$scratch/$name/data"
    GALLRA_DATA="$scratch/$name/data" "$@" .venv/bin/pytest -q -p no:cacheprovider \
        -n "$workers" --dist worksteal --basetemp "$scratch/$name/tmp" \
        >"$scratch/$name/output" 2>&1 &
    running+=($!)
}
report() {  # report NAME PID: wait for the run, show its output, count its failure
    local name="$1" pid="$2"
    wait "$pid"
    local rc=$?
    echo
    echo "=== pytest ($name)"
    cat "$scratch/$name/output"
    if [ "$rc" -ne 0 ]; then
        echo "=== pytest ($name): FAILED (exit $rc)"
        failed+=("pytest ($name)")
    fi
}

suite SQLite "$SQLITE_WORKERS" env -u GALLRA_DATABASE_URL

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
# pytest-django creates (and drops) the databases test_test_gw0, test_test_gw1, ... (one per
# worker) next to `test`.
suite PostgreSQL "$POSTGRES_WORKERS" env GALLRA_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test
report SQLite "${running[0]}"
report PostgreSQL "${running[1]}"

echo
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all checks passed"
