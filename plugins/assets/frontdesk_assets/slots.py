"""Panels in core pages: the ticket sidebar (requester's equipment, linked items with impact) and "My equipment"."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from frontdesk.models import Ticket, User
from frontdesk_assets import asset_types, cmdb, inventory
from frontdesk_assets.lifecycle import STATUS_LABELS
from frontdesk_webui.context import desk


def ticket_sidebar(ticket: Ticket, user: User) -> tuple[int, Markup] | None:
    """The requester's assets and the ticket's linked items with how many items each affects."""
    if not desk().permissions.can(user, asset_types.VIEW):
        return None
    with desk().reading(user) as uow:
        requester = uow.session.get(User, ticket.requester_id)
        assert requester is not None
        linked = [(asset, cmdb.impact_count(uow, asset)) for asset in cmdb.items_of_ticket(uow, ticket)]
        html = render_template(
            "assets/_sidebar.html",
            ticket=ticket,
            requester=requester,
            requester_assets=inventory.assets_of(uow, requester.id),
            linked=linked,
            status_labels=STATUS_LABELS,
        )
    return 60, Markup(html)  # noqa: S704 (rendered by Jinja with autoescape)


def portal_home(user: User) -> Markup | None:
    """A requester's own equipment, when they have any."""
    with desk().reading(user) as uow:
        assets = inventory.assets_of(uow, user.id)
        if not assets:
            return None
        return Markup(render_template("assets/_portal.html", assets=assets, status_labels=STATUS_LABELS))  # noqa: S704
