#!/bin/sh
# Creates (first run) or upgrades (later runs) Temporal's two databases in the platform's Postgres, with the
# admin-tools image's temporal-sql-tool. Safe to run on every `docker compose up`: an existing database is kept,
# and update-schema only applies the versions it lacks.
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the Postgres host}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (temporal-sql-tool reads the password from it)}"
PORT="${DB_PORT:-5432}"
SCHEMA=/etc/temporal/schema/postgresql/v12

until nc -z -w 5 "$POSTGRES_SEEDS" "$PORT"; do echo "waiting for Postgres at $POSTGRES_SEEDS:$PORT"; sleep 2; done

for db in temporal temporal_visibility; do
  dir=$([ "$db" = temporal ] && echo temporal || echo visibility)
  tool="temporal-sql-tool --plugin postgres12 --ep $POSTGRES_SEEDS -p $PORT -u $POSTGRES_USER --db $db"
  $tool create 2>/dev/null && echo "created database $db" || echo "database $db exists"
  # setup-schema -v 0.0 only lays down the version table on a new database; upgrades are update-schema's.
  $tool setup-schema -v 0.0 2>/dev/null || echo "schema of $db already set up"
  $tool update-schema -d "$SCHEMA/$dir/versioned"
done
echo "Temporal schema ready"
