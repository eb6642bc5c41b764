"""The outside world: Postgres storage, SMTP e-mail, the finance ledger, embedded servers."""
