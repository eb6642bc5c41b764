"""The ledger is append-only: UPDATE and DELETE of journal rows are refused.

Corrections are new entries (reversals). A superuser can still disable the triggers, which
is why the audit log (kept apart) is hash-chained.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("journal_entries", "journal_lines")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION l2c_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: post a reversing entry instead', TG_TABLE_NAME;
        END $$;
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION l2c_append_only()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION l2c_append_only()")
