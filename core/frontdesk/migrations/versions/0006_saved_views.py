"""saved views and the group queue index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Named ticket lists (filters, columns, sort) agents keep for themselves or share; an index that
walks a group's tickets newest first, for queues spanning several status categories.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import frontdesk.db

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("sort", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_saved_views_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index("ix_saved_views_owner", ["owner_id", "position"], unique=False)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_group_updated", ["group_id", "updated_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_group_updated")
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_views_owner")

    op.drop_table("saved_views")
