"""Tests that need the real PostgreSQL, Redis and a Celery worker subprocess (marked `integration`)."""
