"""Shared code of the Sparks host tools (spark-pg, spark-redis): generic instance machinery in
instances.py and cli.py, one module per service."""
