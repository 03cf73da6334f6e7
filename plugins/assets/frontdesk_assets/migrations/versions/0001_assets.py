"""assets: types and attributes, assets, history, licence seats, relations, ticket links; built-in types

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import frontdesk.db

revision = "0001"
down_revision = None
branch_labels = ("assets",)
depends_on = None

# key, name, tag prefix, category, attributes (name, kind, required, unique, indexed, choices)
BUILTIN_TYPES = [
    (
        "laptop",
        "Laptop",
        "LAP",
        "hardware",
        [
            ("cpu", "text", False, False, False, []),
            ("ram_gb", "number", False, False, False, []),
            ("os", "choice", False, False, True, ["Windows", "macOS", "Linux", "ChromeOS"]),
        ],
    ),
    (
        "desktop",
        "Desktop",
        "DSK",
        "hardware",
        [
            ("cpu", "text", False, False, False, []),
            ("ram_gb", "number", False, False, False, []),
            ("os", "choice", False, False, True, ["Windows", "macOS", "Linux"]),
        ],
    ),
    (
        "monitor",
        "Monitor",
        "MON",
        "hardware",
        [("size_inches", "number", False, False, False, []), ("resolution", "text", False, False, False, [])],
    ),
    (
        "phone",
        "Phone",
        "PHN",
        "hardware",
        [("imei", "text", False, True, True, []), ("phone_number", "text", False, False, True, [])],
    ),
    (
        "licence",
        "Licence",
        "LIC",
        "licence",
        [
            ("product_key", "text", False, False, False, []),
            ("licence_type", "choice", False, False, False, ["perpetual", "subscription"]),
            ("expires", "date", False, False, False, []),
        ],
    ),
    (
        "server",
        "Server",
        "SRV",
        "hardware",
        [
            ("hostname", "text", False, True, True, []),
            ("ip_address", "text", False, False, True, []),
            ("os", "text", False, False, False, []),
        ],
    ),
    (
        "network_device",
        "Network device",
        "NET",
        "hardware",
        [("hostname", "text", False, True, True, []), ("ip_address", "text", False, False, True, [])],
    ),
    (
        "service",
        "Service",
        "SVC",
        "service",
        [
            ("owner", "person", False, False, True, []),
            ("criticality", "choice", False, False, True, ["low", "medium", "high", "critical"]),
        ],
    ),
]

LABELS = {
    "cpu": "CPU",
    "ram_gb": "RAM (GB)",
    "os": "Operating system",
    "size_inches": "Size (inches)",
    "imei": "IMEI",
    "ip_address": "IP address",
}


def upgrade() -> None:
    op.create_table(
        "assets_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("category IN ('hardware', 'licence', 'service')", name=op.f("ck_assets_types_category")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets_types")),
        sa.UniqueConstraint("key", name=op.f("uq_assets_types_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_assets_types_prefix")),
    )
    op.create_table(
        "assets_attributes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("unique", sa.Boolean(), nullable=False),
        sa.Column("indexed", sa.Boolean(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('text', 'number', 'date', 'choice', 'person', 'asset')", name=op.f("ck_assets_attributes_kind")
        ),
        sa.ForeignKeyConstraint(
            ["type_id"], ["assets_types.id"], name=op.f("fk_assets_attributes_type_id_assets_types"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets_attributes")),
        sa.UniqueConstraint("type_id", "name", name=op.f("uq_assets_attributes_type_id_name")),
    )
    op.create_table(
        "assets_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("asset_tag", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("manufacturer", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", frontdesk.db.UTCDateTime(), nullable=True),
        sa.Column("expected_return", sa.Date(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("vendor", sa.String(length=100), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("purchase_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("seats_total", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("loan_warned_for", sa.Date(), nullable=True),
        sa.Column("warranty_warned_for", sa.Date(), nullable=True),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"], ["users.id"], name=op.f("fk_assets_assets_assigned_to_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_assets_assets_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["type_id"], ["assets_types.id"], name=op.f("fk_assets_assets_type_id_assets_types")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets_assets")),
        sa.UniqueConstraint("asset_tag", name=op.f("uq_assets_assets_asset_tag")),
        sa.UniqueConstraint("model", "serial", name=op.f("uq_assets_assets_model_serial")),
    )
    with op.batch_alter_table("assets_assets", schema=None) as batch_op:
        batch_op.create_index("ix_assets_assets_assigned", ["assigned_to_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assets_assets_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index("ix_assets_assets_return", ["expected_return"], unique=False)
        batch_op.create_index("ix_assets_assets_serial", ["serial"], unique=False)
        batch_op.create_index("ix_assets_assets_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_assets_assets_type_id", ["type_id", "id"], unique=False)
        batch_op.create_index("ix_assets_assets_warranty", ["warranty_end"], unique=False)

    op.create_table(
        "assets_attribute_values",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("attribute_id", sa.Integer(), nullable=False),
        sa.Column("value_text", sa.String(length=200), nullable=True),
        sa.Column("value_number", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets_assets.id"],
            name=op.f("fk_assets_attribute_values_asset_id_assets_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attribute_id"],
            ["assets_attributes.id"],
            name=op.f("fk_assets_attribute_values_attribute_id_assets_attributes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("asset_id", "attribute_id", name=op.f("pk_assets_attribute_values")),
    )
    with op.batch_alter_table("assets_attribute_values", schema=None) as batch_op:
        batch_op.create_index("ix_assets_attribute_values_number", ["attribute_id", "value_number"], unique=False)
        batch_op.create_index("ix_assets_attribute_values_text", ["attribute_id", "value_text"], unique=False)

    op.create_table(
        "assets_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_assets_history_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets_assets.id"],
            name=op.f("fk_assets_history_asset_id_assets_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets_history")),
    )
    with op.batch_alter_table("assets_history", schema=None) as batch_op:
        batch_op.create_index("ix_assets_history_asset", ["asset_id", "id"], unique=False)

    op.create_table(
        "assets_licence_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("(user_id IS NULL) <> (device_id IS NULL)", name=op.f("ck_assets_licence_seats_holder")),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["assets_assets.id"],
            name=op.f("fk_assets_licence_seats_device_id_assets_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["assets_assets.id"],
            name=op.f("fk_assets_licence_seats_licence_id_assets_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assets_licence_seats_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets_licence_seats")),
        sa.UniqueConstraint("licence_id", "device_id", name=op.f("uq_assets_licence_seats_licence_id_device_id")),
        sa.UniqueConstraint("licence_id", "user_id", name=op.f("uq_assets_licence_seats_licence_id_user_id")),
    )
    with op.batch_alter_table("assets_licence_seats", schema=None) as batch_op:
        batch_op.create_index("ix_assets_licence_seats_device", ["device_id"], unique=False)
        batch_op.create_index("ix_assets_licence_seats_user", ["user_id"], unique=False)

    op.create_table(
        "assets_relations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('depends_on', 'runs_on', 'connected_to', 'installed_on', 'part_of')",
            name=op.f("ck_assets_relations_kind"),
        ),
        sa.CheckConstraint("source_id <> target_id", name=op.f("ck_assets_relations_not_self")),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["assets_assets.id"],
            name=op.f("fk_assets_relations_source_id_assets_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["assets_assets.id"],
            name=op.f("fk_assets_relations_target_id_assets_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets_relations")),
        sa.UniqueConstraint(
            "source_id", "target_id", "kind", name=op.f("uq_assets_relations_source_id_target_id_kind")
        ),
    )
    with op.batch_alter_table("assets_relations", schema=None) as batch_op:
        batch_op.create_index("ix_assets_relations_target", ["target_id", "kind", "source_id"], unique=False)

    op.create_table(
        "assets_ticket_links",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", frontdesk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_assets_ticket_links_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets_assets.id"],
            name=op.f("fk_assets_ticket_links_asset_id_assets_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_assets_ticket_links_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("asset_id", "ticket_id", name=op.f("pk_assets_ticket_links")),
    )
    with op.batch_alter_table("assets_ticket_links", schema=None) as batch_op:
        batch_op.create_index("ix_assets_ticket_links_ticket", ["ticket_id", "asset_id"], unique=False)

    _seed_builtin_types()


def _seed_builtin_types() -> None:
    types = sa.table(
        "assets_types",
        sa.column("id", sa.Integer),
        sa.column("key", sa.String),
        sa.column("name", sa.String),
        sa.column("prefix", sa.String),
        sa.column("category", sa.String),
        sa.column("builtin", sa.Boolean),
        sa.column("next_number", sa.Integer),
        sa.column("created_at", frontdesk.db.UTCDateTime),
    )
    attributes = sa.table(
        "assets_attributes",
        sa.column("type_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("label", sa.String),
        sa.column("kind", sa.String),
        sa.column("required", sa.Boolean),
        sa.column("unique", sa.Boolean),
        sa.column("indexed", sa.Boolean),
        sa.column("choices", sa.JSON),
        sa.column("position", sa.Integer),
    )
    now = datetime.now(UTC)
    type_rows, attribute_rows = [], []
    for type_id, (key, name, prefix, category, attrs) in enumerate(BUILTIN_TYPES, start=1):
        type_rows.append(
            {
                "id": type_id,
                "key": key,
                "name": name,
                "prefix": prefix,
                "category": category,
                "builtin": True,
                "next_number": 1,
                "created_at": now,
            }
        )
        for position, (attr, kind, required, unique, indexed, choices) in enumerate(attrs):
            attribute_rows.append(
                {
                    "type_id": type_id,
                    "name": attr,
                    "label": LABELS.get(attr, attr.replace("_", " ").capitalize()),
                    "kind": kind,
                    "required": required,
                    "unique": unique,
                    "indexed": indexed,
                    "choices": choices,
                    "position": position,
                }
            )
    op.bulk_insert(types, type_rows)
    op.bulk_insert(attributes, attribute_rows)
    if op.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequence past them
        op.execute("SELECT setval(pg_get_serial_sequence('assets_types', 'id'), (SELECT max(id) FROM assets_types))")


def downgrade() -> None:
    with op.batch_alter_table("assets_ticket_links", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_ticket_links_ticket")

    op.drop_table("assets_ticket_links")
    with op.batch_alter_table("assets_relations", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_relations_target")

    op.drop_table("assets_relations")
    with op.batch_alter_table("assets_licence_seats", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_licence_seats_user")
        batch_op.drop_index("ix_assets_licence_seats_device")

    op.drop_table("assets_licence_seats")
    with op.batch_alter_table("assets_history", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_history_asset")

    op.drop_table("assets_history")
    with op.batch_alter_table("assets_attribute_values", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_attribute_values_text")
        batch_op.drop_index("ix_assets_attribute_values_number")

    op.drop_table("assets_attribute_values")
    with op.batch_alter_table("assets_assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_assets_warranty")
        batch_op.drop_index("ix_assets_assets_type_id")
        batch_op.drop_index("ix_assets_assets_status_id")
        batch_op.drop_index("ix_assets_assets_serial")
        batch_op.drop_index("ix_assets_assets_return")
        batch_op.drop_index(batch_op.f("ix_assets_assets_organization_id"))
        batch_op.drop_index("ix_assets_assets_assigned")

    op.drop_table("assets_assets")
    op.drop_table("assets_attributes")
    op.drop_table("assets_types")
