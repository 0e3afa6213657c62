#!/bin/sh
# Container entrypoint: bring the database schema up to date, then run the command.
# Migrations run only in front of `hotline serve`, so one-off commands such as
# `hotline keys generate` work without a database. Set RUN_MIGRATIONS=0 on extra
# replicas so only one container migrates (Alembic does not lock against itself).
set -eu

if [ "${1:-}" = "hotline" ] && [ "${2:-}" = "serve" ] && [ "${RUN_MIGRATIONS:-1}" != "0" ]; then
    echo "docker-entrypoint: running hotline db upgrade" >&2
    hotline db upgrade
fi

exec "$@"
