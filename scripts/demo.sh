#!/usr/bin/env bash
# Set up gallra and run it with synthetic demo data on SQLite, under JufCorp's policy:
# http://127.0.0.1:8000/admin/ (the admin password is printed the first time).
# The data directory is ./gallra-data unless GALLRA_DATA says otherwise; run it again and
# it reuses what is there. Stop the server with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# The demo always runs on the embedded SQLite database, never on a configured PostgreSQL, and
# backs up into its own repository in the data directory (`gallra demo` writes its settings).
unset GALLRA_DATABASE_URL GALLRA_BACKUP_REPOSITORY GALLRA_BACKUP_PASSWORD_FILE
.venv/bin/gallra init
.venv/bin/gallra demo
echo
echo "Log in as admin with the password and the one-time code for the two-factor secret that"
echo "gallra init printed above (on the first run only). The current code for that secret:"
echo "  .venv/bin/python -m gallra.staff.totp SECRET"
echo "New password: .venv/bin/gallra staff password admin; new secret: .venv/bin/gallra staff totp admin"
exec .venv/bin/gallra serve --host 127.0.0.1 --port "${PORT:-8000}"
