"""Postgres, the system of record: tables, migrations, and the reads and writes on them."""
