"""Reading the agent workspace's HTML forms into the data services accept (no decisions are made here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from werkzeug.datastructures import MultiDict

from frontdesk.errors import FrontdeskError, ValidationError
from frontdesk.text import whole_number

# Fields of the properties form; an empty type, group or assignee means "none".
PROPERTY_FIELDS = ("subject", "status", "priority", "type", "group", "assignee")
NULLABLE = ("type", "group", "assignee")
BULK_ACTIONS = ("assign_me", "status", "priority", "add_tag")


@dataclass
class Draft:
    """What the agent typed in the composer, kept when a page is shown again after an error."""

    body: str = ""
    visibility: str = "public"

    @classmethod
    def from_form(cls, form: MultiDict[str, str], prefix: str = "") -> Draft:
        visibility = form.get(f"{prefix}visibility", "public")
        return cls(form.get(f"{prefix}body", ""), "internal" if visibility == "internal" else "public")

    @property
    def public(self) -> bool:
        return self.visibility != "internal"


def split_tags(raw: str) -> list[str]:
    """``"billing, VPN "`` → ``["billing", "VPN"]``; the service normalizes and validates each tag."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def property_changes(form: MultiDict[str, str]) -> dict[str, Any]:
    """The fields the form carries, as :func:`frontdesk.services.tickets.update_ticket` data (with ``version``)."""
    data: dict[str, Any] = {}
    for name in PROPERTY_FIELDS:
        if name in form:
            value = form.get(name, "").strip()
            data[name] = (value or None) if name in NULLABLE else value
    if added := split_tags(form.get("add_tags", "")):
        data["add_tags"] = added
    if removed := form.getlist("remove_tags"):
        data["remove_tags"] = removed
    data["version"] = submitted_version(form)
    return data


def submitted_version(form: MultiDict[str, str]) -> int | None:
    """The ticket version the page was rendered with, if the form carries one."""
    raw = form.get("version", "").strip()
    return whole_number(raw)


def submitted_properties(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the agent chose in the properties form, to show it again as it was typed."""
    shown: dict[str, Any] = {name: form.get(name, "") for name in PROPERTY_FIELDS if name in form}
    if "add_tags" in form:
        shown["add_tags"] = form.get("add_tags", "")
    shown["remove_tags"] = form.getlist("remove_tags")
    return shown


def ticket_number(raw: str, field: str) -> int:
    """A ticket number typed by a person: ``42`` or ``#42``."""
    value = raw.strip().lstrip("#").strip()
    number = whole_number(value)
    if number is None or number < 1:
        raise ValidationError({field: ["give a ticket number, e.g. 42"]})
    return number


def bulk_numbers(form: MultiDict[str, str]) -> list[int]:
    """The ticket numbers ticked in a list, in order, without duplicates."""
    numbers: list[int] = []
    for raw in form.getlist("ids"):
        number = whole_number(raw)
        if number is not None and number not in numbers:
            numbers.append(number)
    return numbers


def bulk_change(form: MultiDict[str, str], email: str) -> tuple[str, dict[str, Any]]:
    """The chosen bulk action: a description for the summary and the change for every ticket."""
    action = form.get("action", "")
    if action == "assign_me":
        return "assigned to you", {"assignee": email}
    if action == "status" and form.get("bulk_status"):
        return f"status set to {form['bulk_status']}", {"status": form["bulk_status"]}
    if action == "priority" and form.get("bulk_priority"):
        return f"priority set to {form['bulk_priority']}", {"priority": form["bulk_priority"]}
    if action == "add_tag" and (tags := split_tags(form.get("bulk_tag", ""))):
        return f"tagged {', '.join(tags)}", {"add_tags": tags}
    raise ValidationError({"action": ["choose a bulk action and its value"]})


def error_messages(exc: FrontdeskError) -> list[str]:
    """Readable messages of a service error, naming the fields of a validation error."""
    if isinstance(exc, ValidationError) and exc.errors:
        return [
            f"{field.replace('_', ' ').capitalize()}: {' '.join(map(str, messages))}"
            for field, messages in exc.errors.items()
        ]
    return [exc.message]


def local_path(target: str | None, default: str) -> str:
    """A same-site path to go back to; anything else (other sites, scheme-relative URLs) becomes ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
