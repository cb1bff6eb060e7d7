#!/usr/bin/env bash
# Create a venv with Fides (PyPI `ethyca-fides`) for bench/fides_baseline.py; idempotent.
# Usage: bash bench/fides_setup.sh [VENV_DIR]
#   default: $FIDES_VENV, else ${TMPDIR:-/tmp}/gallra-bench-fides/fides-venv (the benchmarks'
#   cache folder, where bench/fides_baseline.py and bench/subjects.py look for it)
# Kept outside the repo: Fides pins ~250 packages (sqlalchemy 1.4, pydantic 2, celery, ...)
# that must not mix with the project's own venv. A fresh install takes about 2-3 minutes.
set -euo pipefail
VENV="${1:-${FIDES_VENV:-${TMPDIR:-/tmp}/gallra-bench-fides/fides-venv}}"
VERSION="${FIDES_VERSION:-2.78.2}"  # newest release the PyPI index here offered (2026-11)
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import fides" 2>/dev/null; then
    echo "fides $("$VENV/bin/python" -c 'import fides; print(fides.__version__)') in $VENV"
    exit 0
fi
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "ethyca-fides==$VERSION"
"$VENV/bin/python" -c "import fides; print('fides', fides.__version__, 'in', '$VENV')"
echo "use: FIDES_PYTHON=$VENV/bin/python .venv/bin/python bench/fides_baseline.py --dsn ..."
echo "(FIDES_PYTHON is needed only for a VENV_DIR other than the default)"
