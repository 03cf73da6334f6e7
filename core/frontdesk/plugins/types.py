"""Small value types that hooks return to the core."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation; ``endpoint`` is a Flask endpoint name or a URL path."""

    label: str
    endpoint: str
    weight: int = 100
    permission: str | None = None
    icon: str | None = None
    staff_only: bool = False


@dataclass(frozen=True)
class ListColumn:
    """A column a plugin adds to the agent's ticket lists (e.g. the SLA plugin's time left).

    ``cells`` gets every ticket of the page at once and returns ``{ticket id: content}`` (``Markup``
    or plain text, escaped), so a page costs the plugin one query, not one per row; tickets missing
    from the answer show an empty cell.

    With ``sort``, lists can be ordered by the column (``sort=<plugin>.<key>``, in the agent's lists
    and the API): it returns a SQL expression of each ticket (a scalar subquery correlated to
    ``Ticket.id``, e.g. the next due time); tickets come in ascending order of it, those without a
    value last.
    """

    key: str
    label: str
    cells: Callable[[Sequence[Any]], Mapping[int, Any]]
    weight: int = 100
    sort: Callable[[], Any] | None = None


@dataclass(frozen=True)
class RequestField:
    """A field a plugin adds to the request form (portal) and to ticket creation (API, CLI, services).

    ``field`` is a marshmallow field: it validates and converts the submitted value (mark it
    ``required=True`` to make it mandatory). ``save(uow, ticket, value)`` stores the value where the
    plugin keeps it, inside the transaction that creates the ticket. ``choices(uow)`` returns
    ``[(value, label), ...]`` to offer a list instead of a text box. Callers send values as
    ``"extensions": {"<plugin>": {"<name>": value}}`` (the API) or form fields ``extensions.<plugin>.<name>``.
    """

    name: str
    label: str
    field: Any
    save: Callable[[Any, Any, Any], None]
    help: str = ""
    choices: Callable[[Any], Sequence[tuple[str, str]]] | None = None
    weight: int = 100
