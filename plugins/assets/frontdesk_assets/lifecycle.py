"""The asset lifecycle: statuses, the transitions allowed between them, and relation kinds with their direction."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where an asset is in its life."""

    ORDERED = "ordered"
    IN_STOCK = "in_stock"
    DEPLOYED = "deployed"
    IN_REPAIR = "in_repair"
    RETIRED = "retired"
    DISPOSED = "disposed"


# What people read: "In stock" for in_stock. StrEnum keys also match the stored plain strings.
STATUS_LABELS: dict[Status, str] = {s: s.replace("_", " ").capitalize() for s in Status}

# ordered -> in stock -> deployed -> in repair -> in stock ... -> retired -> disposed
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.ORDERED: frozenset({Status.IN_STOCK, Status.RETIRED}),
    Status.IN_STOCK: frozenset({Status.DEPLOYED, Status.IN_REPAIR, Status.RETIRED}),
    Status.DEPLOYED: frozenset({Status.IN_STOCK, Status.IN_REPAIR, Status.RETIRED}),
    Status.IN_REPAIR: frozenset({Status.IN_STOCK, Status.DEPLOYED, Status.RETIRED}),
    Status.RETIRED: frozenset({Status.DISPOSED, Status.IN_STOCK}),
    Status.DISPOSED: frozenset(),
}

# A new asset starts ordered or in stock (a service starts deployed: it is in use once it is recorded).
INITIAL = frozenset({Status.ORDERED, Status.IN_STOCK, Status.DEPLOYED})

# Statuses in which an asset has nobody assigned.
UNASSIGNED = frozenset({Status.ORDERED, Status.IN_STOCK, Status.RETIRED, Status.DISPOSED})


def can_move(old: str, new: str) -> bool:
    """Whether an asset may go from status ``old`` to ``new`` (staying put is always allowed)."""
    return old == new or Status(new) in TRANSITIONS[Status(old)]


class RelationKind(StrEnum):
    """How one configuration item relates to another, read as ``source <kind> target``."""

    DEPENDS_ON = "depends_on"
    RUNS_ON = "runs_on"
    CONNECTED_TO = "connected_to"
    INSTALLED_ON = "installed_on"
    PART_OF = "part_of"


# Read between two tags: "runs on" for runs_on.
RELATION_LABELS: dict[RelationKind, str] = {k: k.replace("_", " ") for k in RelationKind}
