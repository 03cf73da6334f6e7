"""``/api/v1/sla``: calendars, policies, ticket clocks, due-time checks and compliance reports."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from frontdesk.db import utcnow
from frontdesk.errors import ValidationError
from frontdesk.services.tickets import get_ticket
from frontdesk_sla import reports, services, tracking, transfer
from frontdesk_sla.display import summary
from frontdesk_sla.models import SlaCalendar, SlaPolicy
from frontdesk_webui.api.auth import SAFE_METHODS, actor, require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint("sla", __name__, url_prefix="/api/v1/sla", description="Service level agreements.")


@blp.before_request
def authorize() -> None:
    """Signed-in callers only; writes need the ``admin`` token scope (services check ``sla.manage``)."""
    require_actor()
    if request.method not in SAFE_METHODS:
        require_scope("admin")


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError({"_body": ["send a JSON object"]})
    return data


def _calendar_out(calendar: SlaCalendar) -> dict[str, Any]:
    """A calendar as the API shows it: its definition with its id and version."""
    return dict(transfer.calendar_data(calendar), id=calendar.id, version=calendar.version)


def _policy_out(policy: SlaPolicy) -> dict[str, Any]:
    """A policy as the API shows it: its definition with its id."""
    return dict(transfer.policy_data(policy), id=policy.id)


@blp.route("/calendars")
class Calendars(MethodView):
    def get(self) -> Any:
        """Every calendar."""
        with desk().reading(actor()) as uow:
            return [_calendar_out(c) for c in services.list_calendars(uow)]

    def post(self) -> Any:
        """Create a calendar: name, timezone, hours (list), holidays, closed dates, exceptions."""
        with desk().action(actor(), source="api") as uow:
            calendar = services.save_calendar(uow, _body())
            return _calendar_out(calendar), 201


@blp.route("/calendars/<path:name>")  # a name may hold "/" ("Tier 1/EU")
class CalendarItem(MethodView):
    def get(self, name: str) -> Any:
        """One calendar."""
        with desk().reading(actor()) as uow:
            calendar = services.get_calendar(uow, name)
            return _calendar_out(calendar)

    def put(self, name: str) -> Any:
        """Replace a calendar's definition; running clocks are re-timed, settled ones keep their outcome."""
        with desk().action(actor(), source="api") as uow:
            calendar = services.save_calendar(uow, _body(), name)
            return _calendar_out(calendar)

    def delete(self, name: str) -> Any:
        """Delete a calendar no policy uses."""
        with desk().action(actor(), source="api") as uow:
            services.delete_calendar(uow, name)
        return Response(status=204)


@blp.route("/policies")
class Policies(MethodView):
    def get(self) -> Any:
        """Every policy in the order they are tried."""
        with desk().reading(actor()) as uow:
            return [_policy_out(p) for p in services.list_policies(uow)]

    def post(self) -> Any:
        """Create a policy: name, calendar, conditions, targets, pause_on, position, active."""
        with desk().action(actor(), source="api") as uow:
            policy = services.save_policy(uow, _body())
            return _policy_out(policy), 201


@blp.route("/policies/<path:name>")  # a name may hold "/" ("Tier 1/EU")
class PolicyItem(MethodView):
    def get(self, name: str) -> Any:
        """One policy."""
        with desk().reading(actor()) as uow:
            policy = services.get_policy(uow, name)
            return _policy_out(policy)

    def put(self, name: str) -> Any:
        """Replace a policy; if it changed, every open ticket's clocks are recomputed with it in the background."""
        with desk().action(actor(), source="api") as uow:
            policy = services.save_policy(uow, _body(), name)
            return _policy_out(policy)

    def delete(self, name: str) -> Any:
        """Delete a policy; its settled clocks keep their outcomes."""
        with desk().action(actor(), source="api") as uow:
            services.delete_policy(uow, name)
        return Response(status=204)


@blp.route("/tickets/<int:number>/clocks")
class TicketClocks(MethodView):
    def get(self, number: int) -> Any:
        """Every clock of a ticket with its state now, the worst state and the soonest due time."""
        with desk().reading(actor()) as uow:
            uow.require(services.VIEW)
            ticket = get_ticket(uow, number)
            rows = tracking.ticket_clocks(uow.session, [ticket.id])[ticket.id]
            return dict(summary(rows, utcnow()), ticket=number)


class DueArgs(Schema):
    """A due-time question: MINUTES business minutes after START on CALENDAR."""

    calendar = fields.String(required=True)
    start = fields.AwareDateTime(required=True)
    minutes = fields.Float(required=True, validate=validate.Range(min=0, max=60 * 24 * 3660))


@blp.route("/due")
class Due(MethodView):
    @blp.arguments(DueArgs, location="query")
    def get(self, args: dict[str, Any]) -> Any:
        """When a number of business minutes after an instant end on a calendar."""
        with desk().reading(actor()) as uow:
            arithmetic = services.business_time(services.get_calendar(uow, args["calendar"]))
        due = arithmetic.add(args["start"], args["minutes"])
        return {"due": due.isoformat(), "due_local": due.astimezone(arithmetic.tz).isoformat()}


class ReportArgs(Schema):
    """Which clocks to report on and how to group them."""

    by = fields.String(load_default="policy", validate=validate.OneOf(reports.DIMENSIONS))
    since = fields.AwareDateTime(load_default=None)
    until = fields.AwareDateTime(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


@blp.route("/reports/compliance")
class Compliance(MethodView):
    @blp.arguments(ReportArgs, location="query")
    def get(self, args: dict[str, Any]) -> Any:
        """Compliance %, median and p90 minutes of settled clocks per policy, group, priority or month."""
        with desk().reading(actor()) as uow:
            rows = reports.compliance(uow, by=args["by"], since=args["since"], until=args["until"])
        if args["format"] == "csv":
            return Response(
                reports.as_csv(rows),
                mimetype="text/csv",
                headers={"Content-Disposition": "attachment; filename=sla-compliance.csv"},
            )
        return [row.__dict__ for row in rows]
