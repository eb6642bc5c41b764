"""The company policy becomes versioned data (issue 14): `policy_versions`, numbered 1, 2, ...
without gaps; each new deal copies the newest. Version 1 is seeded here with the code
defaults of this revision, written out, so this migration writes the same row whatever the
defaults in code become later; and no read of the policy ever has to write.

Revision ID: 0014
Revises: 0013
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# domain.policy.CompanyPolicy() as of this revision.
VERSION_1 = {
    "delivery_due_days": 14,
    "quote_lapses_before_lost": 3,
    "approval": {
        "bands": [
            {"max_discount_pct": "10", "below_value": "50000", "roles": []},
            {"max_discount_pct": "30", "below_value": "250000", "roles": ["sales_manager"]},
            {
                "max_discount_pct": None,
                "below_value": None,
                "roles": ["sales_manager", "finance", "admin"],
            },
        ],
        "remind_after_days": 1.0,
        "escalate_after_days": 2.0,
    },
    "qualification": {
        "auto_qualify_at": 90,
        "auto_disqualify_below": 5,
        "remind_after_days": 2.0,
        "escalate_after_days": 4.0,
        "close_after_days": 10.0,
    },
    "collection": {"dunning_days": [3.0, 10.0, 20.0], "write_off_after_days": 45.0},
    "credit_limit": "100000",
    "credit_hold_overdue_days": 30.0,
    "renewal_notice_days": 30,
    "renewal_uplift_pct": "3",
}


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text),
        sa.CheckConstraint("version >= 1", name="ck_policy_versions_positive"),
    )
    op.execute(
        sa.text(
            "INSERT INTO policy_versions (version, body, created_by, created_at, note) "
            "VALUES (1, CAST(:body AS jsonb), 'system', now(), :note)"
        ).bindparams(
            body=json.dumps(VERSION_1), note="the defaults in code before policies were data"
        )
    )


def downgrade() -> None:
    op.drop_table("policy_versions")
