"""an index on the history's event, so old events can be pruned

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

Nightly housekeeping deletes delivered events past the retention period; the history rows that
point to them are set to NULL, which needs this index to stay cheap.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ticket_history_event", "ticket_history", ["event_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_history_event", table_name="ticket_history")
