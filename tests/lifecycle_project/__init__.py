"""The project served by tests/test_postgres_lifecycle.py (PostgreSQL connection lifecycle)."""
