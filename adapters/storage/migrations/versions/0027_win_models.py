"""Win-probability models (issue 19): each trained model's version, its holdout metrics and
the model itself, so the latest one can answer without retraining and older ones stay
comparable.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "win_models",
        sa.Column("version", sa.String(80), primary_key=True),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("training_deals", sa.Integer, nullable=False),
        sa.Column("metrics", JSONB, nullable=False),
        sa.Column("model", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_win_models_trained_at", "win_models", ["trained_at"])


def downgrade() -> None:
    op.drop_table("win_models")
