"""Outage tests: the app against a PostgreSQL cluster and a Redis of the tests' own, stopped and started again."""
