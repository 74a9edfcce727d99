"""Coral external-moderation secrets per site; score suggestions from comments:suggestscore.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("coral_secrets", _json(), server_default="[]", nullable=False)
        )
    op.create_table(
        "score_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("scores", _json(), nullable=False),
        sa.Column("spans", _json(), nullable=False),
        sa.Column("context", _json(), nullable=False),
        sa.Column("languages", _json(), nullable=False),
        sa.Column("client_token", sa.String(length=500), nullable=False),
        sa.Column("community_id", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_score_suggestions_site_id", "score_suggestions", ["site_id"])


def downgrade() -> None:
    op.drop_index("ix_score_suggestions_site_id", table_name="score_suggestions")
    op.drop_table("score_suggestions")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("coral_secrets")
