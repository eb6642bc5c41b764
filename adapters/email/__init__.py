"""E-mail: an outbox row per message in Postgres, sent over SMTP once per key."""
