#!/bin/sh
# Start the web service: bring the schema up to date, then serve with gunicorn.
# Only web migrates; worker, beat and watcher wait for web to be healthy, so
# they never race it or run against a half-migrated database.
set -eu

python manage.py migrate --noinput

# Worker count comes from WEB_CONCURRENCY (gunicorn reads it itself).
# Threaded workers: a long streaming response (a million-order CSV export) keeps the
# worker's heartbeat going, where a sync worker would be killed after GUNICORN_TIMEOUT.
exec gunicorn salesproject.wsgi:application \
    --bind 0.0.0.0:8000 \
    --worker-class gthread \
    --threads "${GUNICORN_THREADS:-4}" \
    --access-logfile - \
    --error-logfile - \
    --timeout "${GUNICORN_TIMEOUT:-60}" \
    --graceful-timeout 30
