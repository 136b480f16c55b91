"""Writes for the orders app, a module per job; import the one you call (orders.services.import_runs, ...)."""
