#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL server on loopback (Debian's packages; installed by make test).
# Usage: scripts/with_postgres.sh COMMAND...   — DATABASE_URL is set for the command.
# GUARDLINE_PG_OPTIONS adds server settings, e.g. "-c shared_buffers=2GB -c fsync=on" (later ones win).
set -euo pipefail
PORT=${GUARDLINE_PG_PORT:-54329}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DATA=$(mktemp -d /tmp/guardline-pg.XXXXXX)
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$DATA"
  RUN_AS=(runuser -u postgres --)
fi
"${RUN_AS[@]}" "$BIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -w -l "$DATA/server.log" \
  -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off ${GUARDLINE_PG_OPTIONS:-}" start >/dev/null
cleanup() { "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true; rm -rf "$DATA"; }
trap cleanup EXIT
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/guardline"
"$@"
