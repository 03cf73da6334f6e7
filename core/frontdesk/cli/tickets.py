"""``frontdesk ticket``: create, list, show, answer, change, link and merge tickets from the shell."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from frontdesk import queries
from frontdesk.cli.base import CliState, echo_json, echo_table
from frontdesk.desk import Desk
from frontdesk.models import LinkKind, StatusCategory
from frontdesk.permissions import SYSTEM, Actor
from frontdesk.services import comments, links, people, tickets
from frontdesk.text import html_to_text

F = TypeVar("F", bound=Callable[..., Any])
SUBJECT_WIDTH = 50


def acting_as(f: F) -> F:
    """The ``--as EMAIL`` option: act as that user instead of the system."""
    return click.option(
        "--as", "as_email", metavar="EMAIL", help="Act as this user (default: the system, which may do anything)."
    )(f)


def actor_for(desk: Desk, email: str | None) -> Actor:
    """The user with this e-mail (an error when unknown), or SYSTEM without one."""
    if email is None:
        return SYSTEM
    with desk.reading(SYSTEM) as uow:
        return people.find_user(uow, email)


def _none(value: str | None) -> str | None:
    return None if value is not None and value.strip().lower() == "none" else value


def _when(value: str | None) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _who(person: dict[str, Any] | None) -> str:
    return "-" if person is None else f"{person['name']} <{person['email']}>"


def _category(details: dict[str, Any]) -> str:
    return "" if details["status"] == details["status_category"] else f" ({details['status_category']})"


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


@click.group()
def ticket() -> None:
    """Create, list, show, answer and change tickets."""


@ticket.command("create")
@click.option("--subject", required=True, help="One-line summary of the request.")
@click.option("--requester", required=True, metavar="EMAIL", help="Who asks (a new requester is made if unknown).")
@click.option("--body", default="", help="The request itself (plain text).")
@click.option("--priority", help="Priority name (default: the desk's default priority).")
@click.option("--type", "type_", metavar="TYPE", help="Ticket type name, e.g. question or incident.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Tag to add (repeatable).")
@click.option("--group", help="Group (queue) that handles the ticket.")
@click.option("--assignee", metavar="EMAIL", help="Agent who works the ticket.")
@click.option("--cc", "ccs", multiple=True, metavar="EMAIL", help="Someone to keep informed (repeatable).")
@click.option(
    "--field",
    "extra",
    multiple=True,
    metavar="PLUGIN.NAME=VALUE",
    help="A field a plugin adds to requests, e.g. assets.affected=LAP-0042 (repeatable).",
)
@click.pass_obj
def ticket_create(
    state: CliState,
    type_: str | None,
    tags: tuple[str, ...],
    ccs: tuple[str, ...],
    extra: tuple[str, ...],
    **values: Any,
) -> None:
    """Open a ticket on behalf of a requester; prints only its number."""
    extensions: dict[str, dict[str, str]] = {}
    for item in extra:
        key, equals, value = item.partition("=")
        plugin, dot, name = key.partition(".")
        if not (equals and dot and plugin and name):
            raise click.BadParameter(f"{item!r} is not PLUGIN.NAME=VALUE", param_hint="--field")
        extensions.setdefault(plugin, {})[name] = value
    data = {**values, "type": type_, "tags": list(tags), "ccs": list(ccs), "extensions": extensions}
    with state.desk.action(SYSTEM, source="cli") as uow:
        number = tickets.create_ticket(uow, data).number
    click.echo(number)


@ticket.command("list")
@click.option("--status", multiple=True, help="Only this status, e.g. open or on-hold (repeatable).")
@click.option(
    "--category",
    multiple=True,
    type=click.Choice([c.value for c in StatusCategory]),
    help="Only statuses of this category (repeatable).",
)
@click.option("--tag", multiple=True, help="Only tickets with this tag (repeatable: all of them).")
@click.option("--group", help="Only tickets of this group.")
@click.option("--assignee", metavar="EMAIL|me|none", help="Only tickets assigned to this agent, to you, or to nobody.")
@click.option("--requester", metavar="EMAIL", help="Only tickets of this requester.")
@click.option("--limit", default=25, show_default=True, help="Tickets per page (1 to 200).")
@click.option("--cursor", help="Continue after the page that printed this cursor.")
@acting_as
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def ticket_list(
    state: CliState, limit: int, cursor: str | None, as_email: str | None, as_json: bool, **values: Any
) -> None:
    """List tickets, most recently updated first."""
    if values["assignee"] == "me" and as_email is None:
        raise click.UsageError("--assignee me needs --as EMAIL (the system is assigned no tickets)")
    filters = queries.TicketFilter(
        status=list(values["status"]),
        category=list(values["category"]),
        tag=list(values["tag"]),
        group=values["group"],
        assignee=values["assignee"],
        requester=values["requester"],
    )
    with state.desk.reading(actor_for(state.desk, as_email)) as uow:
        page = queries.list_tickets(uow, filters, cursor=cursor, limit=limit)
        rows = [queries.dump_ticket(uow, item) for item in page.items]
    if as_json:
        echo_json({"tickets": rows, "next_cursor": page.next_cursor})
        return
    if not rows:
        click.echo("No tickets.")
    else:
        for row in rows:
            subject = row["subject"]
            row["subject"] = subject if len(subject) <= SUBJECT_WIDTH else subject[: SUBJECT_WIDTH - 3] + "..."
            row["assignee"] = row["assignee"] and row["assignee"]["email"]
            row["requester"] = row["requester"]["email"]
        echo_table(rows, ["number", "status", "priority", "group", "assignee", "requester", "subject"])
    if page.next_cursor:
        click.echo(f"next page: --cursor {page.next_cursor}")


@ticket.command("show")
@click.argument("number", type=int)
@acting_as
@click.option("--json", "as_json", is_flag=True, help="Print JSON (fields, comments, links and history).")
@click.pass_obj
def ticket_show(state: CliState, number: int, as_email: str | None, as_json: bool) -> None:
    """Show ticket NUMBER with its conversation, links and history."""
    with state.desk.reading(actor_for(state.desk, as_email)) as uow:
        details = queries.ticket_details(uow, number)
    if as_json:
        echo_json(details)
        return
    click.echo(f"#{details['number']}  {details['subject']}")
    fields = {
        "status": details["status"] + _category(details),
        "priority": details["priority"],
        "type": details["type"] or "-",
        "group": details["group"] or "-",
        "assignee": _who(details["assignee"]),
        "requester": _who(details["requester"]),
        "organization": details["organization"] or "-",
        "ccs": _shown(details["ccs"]),
        "tags": _shown(details["tags"]),
        "channel": details["channel"],
        "created": _when(details["created_at"]),
        "updated": _when(details["updated_at"]),
        "version": details["version"],
    }
    if details["merged_into"]:
        fields["merged into"] = f"#{details['merged_into']}"
    width = max(len(name) for name in fields) + 1
    for name, value in fields.items():
        click.echo(f"{(name + ':').ljust(width)}  {value}")
    click.echo(f"\n--- {_when(details['created_at'])}  {_who(details['requester'])} opened the ticket")
    click.echo(html_to_text(details["description"]) or "(no description)")
    for comment in details["comments"]:
        kind = "reply" if comment["public"] else "[internal note]"
        author = _who(comment["author"]) if comment["author"] else "system"
        click.echo(f"\n--- {_when(comment['created_at'])}  {kind} #{comment['id']} by {author}")
        click.echo(html_to_text(comment["body"]))
    if details["links"]:
        click.echo("\nLinks:")
        for link in details["links"]:
            click.echo(f"  {link['kind'].replace('_', ' ')} #{link['ticket']}")
    if details["history"]:
        click.echo("\nHistory:")
        for entry in details["history"]:
            old, new = _shown(entry["old"]), _shown(entry["new"])
            change = new if entry["field"] == "created" else f"{old} -> {new}"
            click.echo(
                f"  {_when(entry['created_at'])}  {entry['actor']} via {entry['source']}: {entry['field']} {change}"
            )


@ticket.command("reply")
@click.argument("number", type=int)
@click.option("--body", required=True, help="The text of the reply (plain text).")
@click.option("--internal", is_flag=True, help="Add an internal note that only agents see.")
@acting_as
@click.pass_obj
def ticket_reply(state: CliState, number: int, body: str, internal: bool, as_email: str | None) -> None:
    """Answer ticket NUMBER, or add an internal note to it."""
    actor = actor_for(state.desk, as_email)
    with state.desk.action(actor, source="cli") as uow:
        comment_id = comments.add_comment(uow, number, {"body": body, "public": not internal}).id
    click.echo(f"Added {'internal note' if internal else 'reply'} {comment_id} to #{number}.")


@ticket.command("update")
@click.argument("number", type=int)
@click.option("--status", help="New status, e.g. open, pending, on-hold, solved or closed.")
@click.option("--priority", help="New priority, e.g. low, normal, high or urgent.")
@click.option("--type", "type_", metavar="TYPE", help="New ticket type ('none' clears it).")
@click.option("--assignee", metavar="EMAIL", help="Agent to assign ('none' unassigns).")
@click.option("--group", help="Group (queue) to move the ticket to ('none' clears it).")
@click.option("--add-tag", "add_tags", multiple=True, metavar="TAG", help="Tag to add (repeatable).")
@click.option("--remove-tag", "remove_tags", multiple=True, metavar="TAG", help="Tag to remove (repeatable).")
@click.option("--version", type=int, help="Refuse the change unless the ticket is still at this version.")
@acting_as
@click.pass_obj
def ticket_update(state: CliState, number: int, as_email: str | None, type_: str | None, **values: Any) -> None:
    """Change fields of ticket NUMBER; only the options given change."""
    values["type"] = type_
    data: dict[str, Any] = {key: value for key, value in values.items() if value not in (None, ())}
    for key in ("type", "assignee", "group"):
        if key in data:
            data[key] = _none(data[key])
    for key in ("add_tags", "remove_tags"):
        if key in data:
            data[key] = list(data[key])
    actor = actor_for(state.desk, as_email)
    if not data:
        with state.desk.reading(actor) as uow:
            tickets.get_ticket(uow, number)
        click.echo(f"Nothing to change on #{number}.")
        return
    with state.desk.action(actor, source="cli") as uow:
        before = tickets.get_ticket(uow, number).version
        version = tickets.update_ticket(uow, number, data).version
    click.echo(f"Nothing to change on #{number}." if version == before else f"Updated #{number} (version {version}).")


@ticket.command("merge")
@click.argument("number", type=int)
@click.option("--into", required=True, type=int, help="The ticket that carries on (gets the conversation).")
@click.pass_obj
def ticket_merge(state: CliState, number: int, into: int) -> None:
    """Merge ticket NUMBER into another one and close it."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        links.merge_tickets(uow, number, into)
    click.echo(f"Merged #{number} into #{into}.")


@ticket.command("link")
@click.argument("number", type=int)
@click.argument("other", type=int)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in LinkKind if k is not LinkKind.MERGED]),
    default=LinkKind.RELATED.value,
    show_default=True,
    help="related; duplicate (NUMBER duplicates OTHER); parent (NUMBER is the parent of OTHER).",
)
@click.pass_obj
def ticket_link(state: CliState, number: int, other: int, kind: str) -> None:
    """Link ticket NUMBER to ticket OTHER."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        links.link_tickets(uow, number, other, kind)
    click.echo(f"Linked #{number} to #{other} ({kind}).")


@ticket.command("unlink")
@click.argument("number", type=int)
@click.argument("other", type=int)
@click.pass_obj
def ticket_unlink(state: CliState, number: int, other: int) -> None:
    """Remove the links between tickets NUMBER and OTHER (merges stay)."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        removed = links.unlink_tickets(uow, number, other)
    click.echo(f"Removed {removed} link{'s' if removed != 1 else ''} between #{number} and #{other}.")
