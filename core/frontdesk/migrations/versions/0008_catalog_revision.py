"""a revision token for the ticket catalog, changed by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

Statuses, priorities, ticket types and groups are read by nearly every ticket action; each process
keeps them in memory and re-reads them only when ``catalog_revision.token`` differs from the one it
saw. Database triggers set a new random token on every change of those tables, so changes made by
any process or connection (and rolled-back ones, whose token never comes back) are noticed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOG_TABLES = ("statuses", "priorities", "ticket_types", "groups")
SQLITE_EVENTS = {"ai": "INSERT", "au": "UPDATE", "ad": "DELETE"}
SQLITE_BUMP = "UPDATE catalog_revision SET token = random();"
POSTGRESQL_BUMP_FUNCTION = (
    "CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE catalog_revision SET token = floor(random() * 9007199254740991)::bigint; RETURN NULL; END $$"
)


def upgrade() -> None:
    op.create_table(
        "catalog_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_revision")),
    )
    op.execute("INSERT INTO catalog_revision (id, token) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for table in CATALOG_TABLES:
            for suffix, event in SQLITE_EVENTS.items():
                op.execute(f"CREATE TRIGGER {table}_catalog_{suffix} AFTER {event} ON {table} BEGIN {SQLITE_BUMP} END")
    else:
        op.execute(POSTGRESQL_BUMP_FUNCTION)
        for table in CATALOG_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in CATALOG_TABLES:
            for suffix in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER {table}_catalog_{suffix}")
    else:
        for table in CATALOG_TABLES:
            op.execute(f"DROP TRIGGER {table}_catalog_changed ON {table}")
        op.execute("DROP FUNCTION catalog_changed()")
    op.drop_table("catalog_revision")
