"""Moderator accounts and their sites; escalation, undo, author suspensions and warnings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "moderators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.Enum("moderator", "senior", "admin", name="moderator_role",
                                  native_enum=False, length=20), nullable=False),
        sa.Column("sections", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "moderator_sites",
        sa.Column("moderator_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["moderator_id"], ["moderators.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("moderator_id", "site_id"),
    )
    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_until", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("warnings", sa.Integer(), server_default="0",
                                      nullable=False))
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalated", sa.Boolean(), server_default="0",
                                      nullable=False))
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("undone_at")
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_column("escalated")
    with op.batch_alter_table("authors", schema=None) as batch_op:
        batch_op.drop_column("warnings")
        batch_op.drop_column("suspended_until")
    op.drop_table("moderator_sites")
    op.drop_table("moderators")
