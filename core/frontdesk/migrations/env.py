"""The one Alembic environment every lineage runs in; ``frontdesk.migrate`` supplies lineage and connection."""

from alembic import context

import frontdesk.models  # noqa: F401  (registers the core tables on the metadata)
from frontdesk.db import Base
from frontdesk.migrate import include_object

config = context.config
lineage = config.attributes["lineage"]
connection = config.attributes["connection"]

if connection is None:
    raise RuntimeError("Frontdesk migrations run through `frontdesk db ...`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=lineage.version_table,
    include_object=include_object(lineage),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
