"""Modex tests: unit (no I/O), integration (real PostgreSQL), e2e (HTTP and browser), tools, infra."""
