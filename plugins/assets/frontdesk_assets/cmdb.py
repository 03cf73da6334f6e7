"""The CMDB: typed relations between configuration items, impact traversal, and tickets linked to items.

Relations read ``source <kind> target``. For impact, ``depends on``, ``runs on`` and ``installed on``
mean the source relies on the target; ``part of`` means the whole (target) relies on its part
(source); ``connected to`` works both ways. "What is affected if X fails" walks from X to whatever
relies on it, "what does X depend on" the other way. The walk is a breadth-first search with one
query per level over the indexed relation table, remembering what it has seen, so cycles end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select, union_all

from frontdesk.access import visible_tickets
from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.models import StatusCategory, Ticket
from frontdesk.schemas import load
from frontdesk.services.tickets import get_ticket
from frontdesk.uow import UnitOfWork
from frontdesk_assets import history
from frontdesk_assets.asset_types import MANAGE, VIEW
from frontdesk_assets.inventory import get_asset
from frontdesk_assets.lifecycle import RELATION_LABELS, RelationKind
from frontdesk_assets.lookups import chunks
from frontdesk_assets.models import Asset, AssetRelation, AssetTicketLink
from frontdesk_assets.schemas import AssetRelationSchema

RELIES = (RelationKind.DEPENDS_ON, RelationKind.RUNS_ON, RelationKind.INSTALLED_ON)
MAX_DEPTH = 10
MAX_NODES = 5_000


class Direction(StrEnum):
    """Which way an impact walk goes."""

    IMPACT = "impact"  # what is affected if the item fails
    DEPENDENCIES = "dependencies"  # what the item depends on


# --- relations ---------------------------------------------------------------------------------


def add_relation(uow: UnitOfWork, data: dict[str, Any]) -> AssetRelation:
    """Relate two items: ``{"source": tag, "kind": "runs_on", "target": tag}``."""
    uow.require(MANAGE)
    values = load(AssetRelationSchema, data)
    source, target = get_asset(uow, values["source"]), get_asset(uow, values["target"])
    if source.id == target.id:
        raise ValidationError({"target": ["an item cannot relate to itself"]})
    existing = select(AssetRelation.id).where(
        AssetRelation.source_id == source.id, AssetRelation.target_id == target.id, AssetRelation.kind == values["kind"]
    )
    if uow.session.scalar(existing) is not None:
        raise Conflict(f"{source.asset_tag} already {RELATION_LABELS[values['kind']]} {target.asset_tag}")
    relation = AssetRelation(source=source, target=target, kind=values["kind"])
    uow.session.add(relation)
    label = f"{RELATION_LABELS[values['kind']]} {target.asset_tag}"
    history.record(uow, source, {"relation": (None, label)})
    uow.session.flush()
    return relation


def remove_relation(uow: UnitOfWork, relation_id: int) -> None:
    """Remove one relation."""
    uow.require(MANAGE)
    relation = uow.session.get(AssetRelation, relation_id)
    if relation is None:
        raise NotFound(f"no relation {relation_id}")
    label = f"{RELATION_LABELS[relation.kind]} {relation.target.asset_tag}"
    history.record(uow, relation.source, {"relation": (label, None)})
    uow.session.delete(relation)


def relations_of(uow: UnitOfWork, asset: Asset) -> tuple[list[AssetRelation], list[AssetRelation]]:
    """The item's relations: those it is the source of, and those pointing at it."""
    uow.require(VIEW)
    base = select(AssetRelation)
    outgoing = uow.session.scalars(base.where(AssetRelation.source_id == asset.id).order_by(AssetRelation.id))
    incoming = uow.session.scalars(base.where(AssetRelation.target_id == asset.id).order_by(AssetRelation.id))
    return list(outgoing), list(incoming)


# --- impact ------------------------------------------------------------------------------------


@dataclass
class ImpactNode:
    """An item reached by the walk: how far away and through which relation."""

    asset: Any  # a row with id, asset_tag, name and status
    depth: int
    via: int  # the id of the item it was reached from
    kind: str


@dataclass
class Impact:
    """The result of an impact walk from ``root``."""

    root: Asset
    direction: Direction
    depth: int
    nodes: list[ImpactNode] = field(default_factory=list)
    edges: list[tuple[int, int, str]] = field(default_factory=list)
    truncated: bool = False


def walk(
    uow: UnitOfWork, root_id: int, direction: Direction, depth: int
) -> tuple[dict[int, tuple[int, int, str]], list[tuple[int, int, str]], bool]:
    """Breadth-first walk from ``root_id``: ``{id: (depth, via, kind)}``, every edge seen, and whether it stopped early.

    One query per level (per chunk of the frontier); items already seen are not walked again.
    """
    seen: dict[int, tuple[int, int, str]] = {}
    edges: list[tuple[int, int, str]] = []
    frontier = [root_id]
    visited = {root_id}
    for level in range(1, depth + 1):
        found: list[int] = []
        for batch in chunks(frontier):
            for origin, reached, kind in uow.session.execute(_step(batch, direction)):
                edges.append((origin, reached, kind))
                if reached not in visited:
                    visited.add(reached)
                    seen[reached] = (level, origin, kind)
                    found.append(reached)
        if len(seen) >= MAX_NODES:
            return seen, edges, True
        if not found:
            break
        frontier = found
    return seen, edges, False


def impact(uow: UnitOfWork, tag: str, direction: str = Direction.IMPACT, depth: int = 3) -> Impact:
    """What is affected if ``tag`` fails (``impact``), or what it depends on (``dependencies``), to ``depth`` levels."""
    uow.require(VIEW)
    if direction not in Direction.__members__.values():
        raise ValidationError({"direction": ["impact or dependencies"]})
    if not 1 <= depth <= MAX_DEPTH:
        raise ValidationError({"depth": [f"between 1 and {MAX_DEPTH}"]})
    root = get_asset(uow, tag)
    seen, edges, truncated = walk(uow, root.id, Direction(direction), depth)
    assets = _assets(uow, seen)
    nodes = [ImpactNode(assets[i], d, via, kind) for i, (d, via, kind) in seen.items() if i in assets]
    nodes.sort(key=lambda node: (node.depth, node.asset.asset_tag))
    return Impact(root, Direction(direction), depth, nodes, edges, truncated)


def impact_count(uow: UnitOfWork, asset: Asset, depth: int = 3) -> int:
    """How many items are affected if ``asset`` fails, to ``depth`` levels."""
    return len(walk(uow, asset.id, Direction.IMPACT, depth)[0])


def _step(frontier: list[int], direction: Direction) -> Any:
    r = AssetRelation
    relying = (*RELIES, RelationKind.CONNECTED_TO)
    whole = (RelationKind.PART_OF, RelationKind.CONNECTED_TO)
    if direction == Direction.IMPACT:
        first = select(r.target_id, r.source_id, r.kind).where(r.target_id.in_(frontier), r.kind.in_(relying))
        second = select(r.source_id, r.target_id, r.kind).where(r.source_id.in_(frontier), r.kind.in_(whole))
    else:
        first = select(r.source_id, r.target_id, r.kind).where(r.source_id.in_(frontier), r.kind.in_(relying))
        second = select(r.target_id, r.source_id, r.kind).where(r.target_id.in_(frontier), r.kind.in_(whole))
    return union_all(first, second)


def _assets(uow: UnitOfWork, ids: Any) -> dict[int, Any]:
    """The tag, name and status of each item reached (rows, not whole assets: walks reach thousands)."""
    found: dict[int, Any] = {}
    columns = select(Asset.id, Asset.asset_tag, Asset.name, Asset.status)
    for batch in chunks(ids):
        found.update({row.id: row for row in uow.session.execute(columns.where(Asset.id.in_(batch)))})
    return found


# --- tickets -----------------------------------------------------------------------------------


def link_ticket(uow: UnitOfWork, tag: str, number: int) -> AssetTicketLink:
    """Name ``tag`` as a configuration item the ticket concerns (agents who work the ticket may)."""
    uow.require(VIEW)
    uow.require("tickets.work")
    asset, ticket = get_asset(uow, tag), get_ticket(uow, number)
    if uow.session.get(AssetTicketLink, (asset.id, ticket.id)) is not None:
        raise Conflict(f"#{ticket.number} is already linked to {asset.asset_tag}")
    link = AssetTicketLink(asset_id=asset.id, ticket_id=ticket.id, actor_id=uow.actor_id)
    uow.session.add(link)
    history.record(uow, asset, {"ticket": (None, f"#{ticket.number}")})
    return link


def unlink_ticket(uow: UnitOfWork, tag: str, number: int) -> None:
    """Remove the link between an item and a ticket."""
    uow.require(VIEW)
    uow.require("tickets.work")
    asset, ticket = get_asset(uow, tag), get_ticket(uow, number)
    link = uow.session.get(AssetTicketLink, (asset.id, ticket.id))
    if link is None:
        raise NotFound(f"#{ticket.number} is not linked to {asset.asset_tag}")
    uow.session.delete(link)
    history.record(uow, asset, {"ticket": (f"#{ticket.number}", None)})


def tickets_of(uow: UnitOfWork, asset: Asset, limit: int = 50) -> tuple[list[Ticket], list[Ticket]]:
    """The tickets linked to an item that the actor may see: open ones, then past (solved or closed) ones."""
    uow.require(VIEW)
    linked = select(AssetTicketLink.ticket_id).where(AssetTicketLink.asset_id == asset.id)
    query = (
        select(Ticket)
        .where(Ticket.id.in_(linked), visible_tickets(uow.actor))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    found = list(uow.session.scalars(query))
    past = (StatusCategory.SOLVED, StatusCategory.CLOSED)
    return [t for t in found if t.status_category not in past], [t for t in found if t.status_category in past]


def items_of_ticket(uow: UnitOfWork, ticket: Ticket) -> list[Asset]:
    """The configuration items linked to a ticket."""
    uow.require(VIEW)
    linked = select(AssetTicketLink.asset_id).where(AssetTicketLink.ticket_id == ticket.id)
    return list(uow.session.scalars(select(Asset).where(Asset.id.in_(linked)).order_by(Asset.asset_tag)))
