"""``/api/v1/automation``: triggers and time rules, dry runs, the YAML file and notification texts (admins).

Rules, dry runs and the YAML file need the ``automation.manage`` permission, notification texts
``desk.configure`` (both: admins); with an API token, changes need the ``admin`` scope. A ticket's
automation log (``/api/v1/tickets/<number>/automation-log``) is for agents who can see the ticket.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from frontdesk import notifications
from frontdesk.automation.config_file import export_yaml, import_yaml
from frontdesk.automation.rules import MAX_ACTIONS, MAX_CONDITIONS
from frontdesk.errors import NotFound, ValidationError
from frontdesk.models import NotificationTemplate, RuleKind, User
from frontdesk.services import automation
from frontdesk.uow import UnitOfWork
from frontdesk_webui.api.auth import SAFE_METHODS, actor, require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint(
    "automation",
    __name__,
    url_prefix="/api/v1",
    description="Automation rules (admins), their log on tickets (agents), the YAML file and notification texts.",
)

RULES_PERMISSION = "automation.manage"
TEMPLATES_PERMISSION = "desk.configure"  # what notifications.set_template / reset_template require
TEMPLATE_ENDPOINTS = frozenset({"automation.Templates", "automation.TemplateItem"})
READ_ONLY_POSTS = frozenset({"automation.DryRun"})  # a POST only to carry a rule body: changes nothing
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")
TEXT_LINE = validate.Regexp(r"^[^\x00]*[^\s\x00][^\x00]*$", error="Must not be blank or contain NUL characters.")
KINDS = [kind.value for kind in RuleKind]


@blp.before_request
def authorize() -> None:
    """Refuse who may not call before the body or query is validated: 403 comes before 422."""
    user = require_actor()
    if request.endpoint == "automation.AutomationLog":
        desk().permissions.require(user, "tickets.work")
        return
    if request.method not in SAFE_METHODS and request.endpoint not in READ_ONLY_POSTS:
        require_scope("admin")
    permission = TEMPLATES_PERMISSION if request.endpoint in TEMPLATE_ENDPOINTS else RULES_PERMISSION
    desk().permissions.require(user, permission)


def admin() -> User:
    """The caller of an automation change: signed in and, with a token, holding the ``admin`` scope."""
    user = require_actor()
    require_scope("admin")
    return user


# Schemas. Input schemas check types and sizes; the service validates conditions and actions
# against the fields and action types the loaded plugins provide, naming e.g. ``conditions.0.op``.

CONDITIONS = (
    'Each `{"field", "op", "value"}`, e.g. `{"field": "subject", "op": "contains", "value": "vpn"}`; '
    "a time rule needs an `hours_since_...` condition"
)
ACTIONS = 'Each `{"type", ...parameters}`, e.g. `{"type": "set", "field": "group", "value": "Network"}`'


class RuleChangesSchema(Schema):
    """Changes to a rule; only the fields given change, and the rule as a whole must stay valid."""

    name = fields.String(validate=validate.Length(min=1, max=120))
    description = fields.String(validate=validate.Length(max=2000))
    kind = fields.String(
        validate=validate.OneOf(KINDS),
        metadata={"description": "`trigger`: runs on events; `time`: runs on a schedule over tickets that waited"},
    )
    enabled = fields.Boolean()
    events = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        validate=validate.Length(max=100),
        metadata={"description": "Events a trigger listens to (`ticket.created`...); none for time rules"},
    )
    match = fields.String(
        validate=validate.OneOf(["all", "any"]), metadata={"description": "Whether all or any conditions must hold"}
    )
    conditions = fields.List(
        fields.Dict(), validate=validate.Length(max=MAX_CONDITIONS), metadata={"description": CONDITIONS}
    )
    actions = fields.List(fields.Dict(), validate=validate.Length(max=MAX_ACTIONS), metadata={"description": ACTIONS})


class RuleCreateSchema(RuleChangesSchema):
    """A new rule, evaluated after the rules of its kind (``kind`` defaults to ``trigger``, ``match`` to ``all``)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    actions = fields.List(
        fields.Dict(),
        required=True,
        validate=validate.Length(min=1, max=MAX_ACTIONS),
        metadata={"description": ACTIONS},
    )


class DryRunSchema(RuleChangesSchema):
    """A rule as written in the editor: only its kind, match, conditions (and a trigger's events) matter."""


class RuleSchema(Schema):
    """A rule as stored, with its place in the evaluation order of its kind."""

    id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(KINDS))
    name = fields.String()
    description = fields.String()
    position = fields.Integer(metadata={"description": "1 = evaluated first among the rules of its kind"})
    enabled = fields.Boolean()
    events = fields.List(fields.String())
    match = fields.String(validate=validate.OneOf(["all", "any"]))
    conditions = fields.List(fields.Dict(), metadata={"description": CONDITIONS})
    actions = fields.List(fields.Dict(), metadata={"description": ACTIONS})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class RuleListArgs(Schema):
    """Which rules to list: one kind, or all (triggers first)."""

    kind = fields.String(validate=validate.OneOf(KINDS))


class MoveSchema(Schema):
    """Where to put the rule among the rules of its kind."""

    position = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata={"description": "1 = evaluated first"}
    )


class DryRunMatchSchema(Schema):
    """An open ticket the rule's conditions hold for right now."""

    number = fields.Integer()
    subject = fields.String()
    status = fields.String()


class ImportArgs(Schema):
    """How to import: by default rules and shared macros the file does not name stay."""

    replace = fields.Boolean(
        load_default=False, metadata={"description": "Also delete rules and shared macros the file does not name"}
    )


class ImportResultSchema(Schema):
    """What an import changed (rules and shared macros together)."""

    created = fields.Integer()
    updated = fields.Integer()
    deleted = fields.Integer()


class LogLineSchema(Schema):
    """One rule in one evaluation: whether it matched, why (not), and what it did."""

    rule = fields.String(metadata={"description": "The rule's name (or `rule #N (deleted)`)"})
    matched = fields.Boolean()
    why = fields.String()
    done = fields.List(fields.String(), metadata={"description": "What each action did, in words"})
    error = fields.String(allow_none=True, metadata={"description": "Why the rule's actions failed, if they did"})


class LogEntrySchema(Schema):
    """One evaluation of the rules for the ticket."""

    id = fields.Integer()
    at = fields.DateTime()
    trigger = fields.String(metadata={"description": "The event, or `time` for the schedule"})
    rules = fields.List(fields.Nested(LogLineSchema))


class LogArgs(Schema):
    """How many evaluations to show, newest first."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class TemplateTextSchema(Schema):
    """The wording of a notification: a subject line and a body, both templates (``{{ ticket.number }}``...)."""

    subject = fields.String()
    body = fields.String()


class TemplateSchema(TemplateTextSchema):
    """A notification kind with its current wording, whether an admin changed it, and the default."""

    kind = fields.String()
    audience = fields.String(metadata={"description": "Who receives it: requester or agent"})
    customised = fields.Boolean(metadata={"description": "An admin's wording replaces the default"})
    default = fields.Nested(TemplateTextSchema)


class TemplateChangeSchema(Schema):
    """The admin's wording of a notification kind."""

    subject = fields.String(required=True, validate=[validate.Length(min=1, max=250), TEXT_LINE])
    body = fields.String(required=True, validate=[validate.Length(max=100_000), NO_NUL])


# Rules


def _rule(rule_id: int) -> Any:
    """One rule, read after a change has committed."""
    with desk().reading(actor()) as uow:
        return automation.get_rule(uow, rule_id)


def _rules(kind: str | None = None) -> list[Any]:
    """The rules (of one kind) in evaluation order."""
    with desk().reading(actor()) as uow:
        return automation.list_rules(uow, kind)


@blp.route("/automation/rules")
class Rules(MethodView):
    @blp.arguments(RuleListArgs, location="query")
    @blp.response(200, RuleSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List rules in evaluation order, triggers first (``?kind=`` for one kind), enabled or not."""
        return _rules(args.get("kind"))

    @blp.arguments(RuleCreateSchema)
    @blp.response(201, RuleSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a rule at the end of its kind's order; its conditions and actions must be ones the desk offers."""
        with desk().action(admin(), source="api") as uow:
            rule_id = automation.create_rule(uow, data).id
        return _rule(rule_id), 201, {"Location": f"/api/v1/automation/rules/{rule_id}"}


@blp.route("/automation/rules/<int:rule_id>")
class RuleItem(MethodView):
    @blp.response(200, RuleSchema)
    def get(self, rule_id: int) -> Any:
        """One rule."""
        return _rule(rule_id)

    @blp.arguments(RuleChangesSchema)
    @blp.response(200, RuleSchema)
    def patch(self, changes: dict[str, Any], rule_id: int) -> Any:
        """Change a rule (not its kind); the changed rule is validated as a whole."""
        with desk().action(admin(), source="api") as uow:
            automation.update_rule(uow, rule_id, changes)
        return _rule(rule_id)

    @blp.response(204)
    def delete(self, rule_id: int) -> Response:
        """Delete a rule; the automation log keeps naming it as deleted."""
        with desk().action(admin(), source="api") as uow:
            automation.delete_rule(uow, rule_id)
        return Response(status=204)


@blp.route("/automation/rules/<int:rule_id>/move")
class RuleMove(MethodView):
    @blp.arguments(MoveSchema)
    @blp.response(200, RuleSchema(many=True))
    def post(self, data: dict[str, Any], rule_id: int) -> Any:
        """Put a rule at ``position`` among the rules of its kind; answers with that kind's new order."""
        with desk().action(admin(), source="api") as uow:
            kind = automation.move_rule(uow, rule_id, data["position"])[0].kind
        return _rules(kind)


@blp.route("/automation/dry-run")
class DryRun(MethodView):
    @blp.arguments(DryRunSchema)
    @blp.response(200, DryRunMatchSchema(many=True))
    def post(self, data: dict[str, Any]) -> Any:
        """Open tickets a rule's conditions hold for right now (up to 100), changing nothing.

        Send the rule as it would be saved (a trigger needs its events); "changed" conditions never hold.
        """
        with desk().reading(require_actor()) as uow:
            found = automation.dry_run(uow, data)
            return [{"number": t.number, "subject": t.subject, "status": t.status.name} for t in found]


@blp.route("/automation/export")
class Export(MethodView):
    @blp.response(
        200,
        content_type="application/yaml",
        description="Triggers, time rules and shared macros as one YAML document",
    )
    @blp.doc(
        responses={
            "200": {
                "description": "Triggers, time rules and shared macros as one YAML document",
                "content": {"application/yaml": {"schema": {"type": "object"}}},
            }
        }
    )
    def get(self) -> Response:
        """The desk's triggers, time rules and shared macros as YAML, for version control or another desk.

        An unchanged desk exports the same bytes every time.
        """
        with desk().reading(require_actor()) as uow:
            text = export_yaml(uow)
        return Response(
            text,
            mimetype="application/yaml",
            headers={"Content-Disposition": 'attachment; filename="frontdesk-automation.yaml"'},
        )


YAML_BODY = {
    "required": True,
    "description": "A file as `GET /api/v1/automation/export` writes it",
    "content": {
        "application/yaml": {
            "schema": {
                "type": "object",
                "properties": {
                    "version": {"type": "integer", "enum": [1]},
                    "triggers": {"type": "array", "items": {"type": "object"}},
                    "time_rules": {"type": "array", "items": {"type": "object"}},
                    "macros": {"type": "array", "items": {"type": "object"}},
                },
            }
        }
    },
}


def _yaml_text() -> str:
    """The request body as text: the YAML file, in UTF-8."""
    try:
        return request.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError({"file": ["must be UTF-8 text"]}) from None


@blp.route("/automation/import")
class Import(MethodView):
    @blp.arguments(ImportArgs, location="query")
    @blp.doc(requestBody=YAML_BODY)
    @blp.response(200, ImportResultSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Create or update rules and shared macros by name from a YAML file (the request body).

        The whole file is checked first: one invalid item answers 422 naming it and its field
        (``triggers[2] 'Route VPN'.conditions.0.op``) and changes nothing. ``?replace=true`` also
        deletes the rules and shared macros the file does not name.
        """
        text = _yaml_text()
        with desk().action(admin(), source="api") as uow:
            return import_yaml(uow, text, replace=args["replace"])


# A ticket's automation log


@blp.route("/tickets/<int:number>/automation-log")
class AutomationLog(MethodView):
    @blp.arguments(LogArgs, location="query")
    @blp.response(200, LogEntrySchema(many=True))
    def get(self, args: dict[str, Any], number: int) -> Any:
        """What automation did on the ticket, newest first: each rule, whether it matched and why (agents)."""
        with desk().reading(require_actor()) as uow:
            return automation.automation_log(uow, number, limit=args["limit"])


# Notification texts


def _template(uow: UnitOfWork, kind: str) -> dict[str, Any]:
    """A notification kind as the API shows it: current wording, customised or not, and the default."""
    current = notifications.template_for(uow, kind)
    default = notifications.DEFAULT_TEMPLATES[kind]
    return {
        "kind": kind,
        "audience": current.audience,
        "subject": current.subject,
        "body": current.body,
        "customised": uow.session.get(NotificationTemplate, kind) is not None,
        "default": {"subject": default.subject, "body": default.body},
    }


def _known(kind: str) -> None:
    """404 for a kind the desk does not send."""
    if kind not in notifications.DEFAULT_TEMPLATES:
        raise NotFound(f"no notification template {kind!r}")


@blp.route("/automation/templates")
class Templates(MethodView):
    @blp.response(200, TemplateSchema(many=True))
    def get(self) -> Any:
        """Every notification kind with its current subject and body, whether it is customised, and the default."""
        with desk().reading(require_actor()) as uow:
            uow.require(TEMPLATES_PERMISSION)
            return [_template(uow, kind) for kind in notifications.DEFAULT_TEMPLATES]


@blp.route("/automation/templates/<kind>")
class TemplateItem(MethodView):
    @blp.arguments(TemplateChangeSchema)
    @blp.response(200, TemplateSchema)
    def put(self, data: dict[str, Any], kind: str) -> Any:
        """Replace the wording of a notification kind; both texts must be valid templates."""
        _known(kind)
        with desk().action(admin(), source="api") as uow:
            notifications.set_template(uow, kind, data["subject"], data["body"])
        with desk().reading(actor()) as uow:
            return _template(uow, kind)

    @blp.response(200, TemplateSchema)
    def delete(self, kind: str) -> Any:
        """Go back to the default wording of a notification kind; answers with it."""
        _known(kind)
        with desk().action(admin(), source="api") as uow:
            notifications.reset_template(uow, kind)
        with desk().reading(actor()) as uow:
            return _template(uow, kind)
