"""The audit log gets a signed head per deal and becomes append-only (issue 13).

Existing chains (plain SHA-256) get an unsigned head naming their last event, with
`legacy_upto` = that event; `l2c migrate` signs them right after this upgrade, with the
audit key that the database does not hold (adapters/storage/audit.py: anchor_legacy_heads).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_heads",
        sa.Column("deal_id", sa.String(40), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("legacy_upto", sa.Integer, nullable=False, server_default="0"),
        sa.Column("mac", sa.String(64)),
    )
    op.execute(
        """
        INSERT INTO audit_heads (deal_id, seq, hash, legacy_upto)
        SELECT DISTINCT ON (deal_id) deal_id, seq, hash, seq
        FROM audit_events ORDER BY deal_id, seq DESC
        """
    )
    op.execute(
        """
        CREATE FUNCTION l2c_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only: history is never rewritten';
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION l2c_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION l2c_audit_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION l2c_audit_append_only()")
    op.drop_table("audit_heads")
