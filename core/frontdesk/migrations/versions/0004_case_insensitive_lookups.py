"""case-insensitive look-ups of users and organizations by index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

E-mail addresses and organization names are compared in lower case; without these expression
indexes every sign-in and every ticket filed by e-mail scanned the whole users table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("ix_organizations_name_lower", "organizations", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    op.drop_index("ix_organizations_name_lower", table_name="organizations")
    op.drop_index("ix_users_email_lower", table_name="users")
