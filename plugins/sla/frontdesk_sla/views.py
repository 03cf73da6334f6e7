"""The SLA pages: calendars, policies (edited as YAML, validated all or nothing) and the compliance report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from frontdesk.errors import Conflict, ValidationError
from frontdesk.uow import UnitOfWork
from frontdesk_sla import reports, services, transfer
from frontdesk_webui.confirm import confirm_page, confirmed
from frontdesk_webui.context import desk

bp = Blueprint("sla", __name__, url_prefix="/sla", template_folder="templates", static_folder="static")


def _me() -> Any:
    return current_user._get_current_object()


@bp.before_request
@login_required
def staff_only() -> None:
    """SLA pages are for holders of ``sla.view`` (agents and admins)."""
    if not desk().permissions.can(_me(), services.VIEW):
        abort(403)


def _by(value: str | None) -> str:
    return value if value in reports.DIMENSIONS else "policy"


def _page(by: str, draft: str | None = None) -> str:
    """The SLA page; ``draft`` is a refused YAML document to show again in the editor."""
    with desk().reading(_me()) as uow:
        calendars = [dict(transfer.calendar_data(c), version=c.version) for c in services.list_calendars(uow)]
        policies = [transfer.policy_data(p) for p in services.list_policies(uow)]
        manage = uow.can(services.MANAGE)
        document = draft if draft is not None else transfer.export_yaml(uow) if manage else ""
        rows = reports.compliance(uow, by=by)
    return render_template(
        "sla/index.html",
        calendars=calendars,
        policies=policies,
        manage=manage,
        document=document,
        rows=rows,
        chart=[asdict(row) for row in rows],
        by=by,
        dimensions=reports.DIMENSIONS,
    )


@bp.route("/")
def index() -> str:
    """Calendars, policies and the compliance report (per policy, group, priority or month)."""
    return _page(_by(request.args.get("by")))


@bp.route("/definitions", methods=["POST"])
def save_definitions() -> Any:
    """Create or replace calendars and policies from the YAML editor: all of them or none."""
    document = request.form.get("document", "")
    try:
        with desk().action(_me(), source="web") as uow:
            calendars, policies = transfer.import_yaml(uow, document)
    except (ValidationError, Conflict) as exc:
        flash(f"Nothing saved: {exc}", "danger")
        return _page("policy", draft=document), 422
    flash(f"Saved {calendars} calendar(s) and {policies} polic{'y' if policies == 1 else 'ies'}.", "success")
    return redirect(url_for("sla.index"))


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


@bp.route("/calendars", methods=["POST"])
def add_calendar() -> Any:
    """Create a calendar from the form (hours one spec a line; holidays and closed dates comma-separated)."""
    form = request.form
    data = {
        "name": form.get("name", ""),
        "timezone": form.get("timezone", ""),
        "hours": [line.strip() for line in form.get("hours", "").splitlines() if line.strip()],
        "holidays": _split(form.get("holidays", "")),
        "closed": _split(form.get("closed", "")),
    }
    try:
        with desk().action(_me(), source="web") as uow:
            services.save_calendar(uow, data)
    except (ValidationError, Conflict) as exc:
        flash(f"Calendar not saved: {exc}", "danger")
        return _page("policy"), 422
    flash(f"Calendar {data['name']} created.", "success")
    return redirect(url_for("sla.index"))


CALENDAR_GOES = "A calendar that a policy still uses is not deleted: point those policies elsewhere first."
POLICY_GOES = (
    "Clocks it settled keep their outcomes; the clocks of open tickets are recomputed with the remaining policies."
)


@bp.route("/calendars/delete", methods=["POST"])
def delete_calendar() -> Any:
    """Delete the calendar named in the form once confirmed; one that a policy uses is refused."""
    return _delete(services.get_calendar, services.delete_calendar, "calendar", CALENDAR_GOES)


@bp.route("/policies/delete", methods=["POST"])
def delete_policy() -> Any:
    """Delete the policy named in the form once confirmed; settled clocks keep their outcomes."""
    return _delete(services.get_policy, services.delete_policy, "policy", POLICY_GOES)


def _delete(
    find: Callable[[UnitOfWork, str], object], remove: Callable[[UnitOfWork, str], None], noun: str, consequence: str
) -> Any:
    """Delete what the form names through the service (which checks ``sla.manage``), asking first.

    The name travels in the form rather than the address, so any name (``Tier 1/EU``) can be deleted.
    Unconfirmed, a manager gets the confirmation page; a refusal is shown on the SLA page.
    """
    name = request.form.get("name", "")
    if not confirmed():
        with desk().reading(_me()) as uow:
            uow.require(services.MANAGE)
            find(uow, name)  # a stale form: 404 rather than a question about nothing
        return confirm_page(noun, name, consequence, "Service level agreements", url_for("sla.index"), {"name": name})
    try:
        with desk().action(_me(), source="web") as uow:
            remove(uow, name)
    except Conflict as exc:
        flash(f"{noun.capitalize()} {name} not deleted: {exc}", "danger")
        return _page("policy"), 409
    flash(f"{noun.capitalize()} {name} deleted.", "success")
    return redirect(url_for("sla.index"))


@bp.route("/report.csv")
def report_csv() -> Response:
    """The compliance report as CSV."""
    with desk().reading(_me()) as uow:
        rows = reports.compliance(uow, by=_by(request.args.get("by")))
    return Response(
        reports.as_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=sla-compliance.csv"},
    )
