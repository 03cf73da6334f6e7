"""Demo data: groups of agents, organizations, requesters and a realistic ticket load, made through the services.

Everything goes through the service layer, so the demo desk has the history, events and search
index a real one would have. The same ``seed`` gives the same tickets; people, groups and
organizations that exist already (from an earlier run) are reused, so running it twice adds tickets.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from frontdesk.desk import Desk
from frontdesk.models import Group, GroupMembership, Organization, User
from frontdesk.permissions import SYSTEM, Actor
from frontdesk.services import comments, people, tickets
from frontdesk.uow import UnitOfWork

DEMO_PASSWORD = "demo-password"  # noqa: S105 - published on purpose: it signs in to demo accounts only
AGENT_DOMAIN = "demo.frontdesk.test"

GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Service Desk": ("First line: accounts, passwords and questions", ("Anna", "Ben", "Chloe")),
    "Network": ("VPN, Wi-Fi and connectivity", ("Dev", "Elena")),
    "Hardware": ("Laptops, printers, phones and desks", ("Felix", "Grace")),
    "Applications": ("Business applications and licences", ("Hugo", "Ines", "Jonas")),
}
# name, mail domain, shared; requesters are spread over these and "no organization" (None).
ORGANIZATIONS: tuple[tuple[str | None, str, bool], ...] = (
    ("Acme Logistics", "acme.test", True),
    ("Northwind Traders", "northwind.test", False),
    ("Globex", "globex.test", False),
    ("Acme Logistics", "acme.test", True),
    (None, "mail.test", False),
)
FIRST_NAMES = (
    "Mia", "Noah", "Emma", "Liam", "Olivia", "Lucas", "Sofia", "Elias", "Lena", "Jonas", "Hannah", "Leon",
    "Marie", "Paul", "Clara", "Finn", "Ella", "Theo", "Ida", "Oskar", "Nora", "Max", "Lea", "Jan",
    "Zoe", "Tom", "Amira", "Yusuf", "Priya", "Kenji",
)  # fmt: skip
LAST_NAMES = (
    "Schmidt", "Martin", "Rossi", "Novak", "Jensen", "Garcia", "Dubois", "Kowalski", "Berg", "Silva",
    "Meyer", "Costa", "Nielsen", "Fischer", "Moreau", "Horvat", "Lindqvist", "Weber", "Romano", "Kaya",
    "Brown", "Smith", "Wagner", "Petit", "Janssen", "Ivanova", "Sato", "Okafor", "Patel", "Murphy",
)  # fmt: skip

APPS = ("Outlook", "Teams", "SAP", "Salesforce", "Jira", "the HR portal", "the expense tool", "Excel", "SharePoint")
PLACES = ("the Berlin office", "the warehouse", "home", "meeting room 3", "reception", "the Lyon office")
DEVICES = ("laptop", "docking station", "monitor", "headset", "desk phone", "mobile phone")
FLOORS = ("1st", "2nd", "3rd", "4th")
SINCE = ("since this morning", "since yesterday", "since the last update", "for a week now", "since Monday")

# group, type, tags, subject, first sentence of the body
TOPICS: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    ("Service Desk", "task", ("password", "access"), "Password reset for {app}",
     "I forgot my password for {app} and the self-service reset sends me no e-mail."),
    ("Service Desk", "incident", ("account", "access"), "Account locked after too many sign-in attempts",
     "My account is locked and I cannot sign in to anything {since}."),
    ("Service Desk", "task", ("onboarding",), "New starter next week: accounts and a {device}",
     "We have a new colleague starting on Monday who needs accounts and a {device}."),
    ("Service Desk", "question", ("how-to", "outlook"), "How do I share my calendar with my team?",
     "I would like my team to see my calendar, but I cannot find the setting."),
    ("Network", "incident", ("vpn", "remote"), "VPN disconnects every few minutes from {place}",
     "The VPN connection drops every few minutes when I work from {place}."),
    ("Network", "incident", ("wifi",), "No Wi-Fi in {place}",
     "There is no Wi-Fi in {place} {since}; the network does not show up at all."),
    ("Network", "problem", ("network", "performance"), "Very slow network {since}",
     "Everything that goes over the network is very slow {since}."),
    ("Network", "incident", ("file-share", "vpn"), "Cannot reach the file share from {place}",
     "I cannot open the department file share from {place}."),
    ("Hardware", "incident", ("printer",), "Printer on the {floor} floor shows a paper jam",
     "The printer on the {floor} floor says there is a paper jam, but there is no paper stuck."),
    ("Hardware", "incident", ("hardware",), "My {device} stopped working",
     "My {device} stopped working {since}; it does not react at all."),
    ("Hardware", "task", ("hardware", "request"), "Request: a second monitor for my desk",
     "Could I get a second monitor? I work with large spreadsheets all day."),
    ("Hardware", "problem", ("laptop", "battery"), "Laptop battery empty within an hour",
     "My laptop battery lasts less than an hour {since}."),
    ("Applications", "incident", ("crash",), "{app} crashes when I open attachments",
     "{app} crashes every time I open an attachment {since}."),
    ("Applications", "task", ("access", "license"), "Access request: {app}",
     "I need access to {app} for my new role in the finance team."),
    ("Applications", "incident", ("error",), "Error 'session expired' in {app}",
     "{app} shows 'session expired' a few seconds after I sign in."),
    ("Applications", "problem", ("reporting",), "Export from {app} to Excel is empty",
     "When I export my report from {app} the Excel file has headers but no rows."),
)  # fmt: skip
EXTRA_TAGS = ("vip", "follow-up", "known-issue", "remote", "urgent-request", "hardware", "access")
DETAILS = (
    "I already restarted my computer, it did not help.",
    "Colleagues next to me have the same problem.",
    "It worked fine last week.",
    "This blocks me from finishing the monthly report.",
    "It happens on my laptop and on my phone.",
    "I am working from {place} today.",
)
GREETINGS = ("Hi,", "Hello,", "Hi team,", "Good morning,", "Dear Service Desk,")
ASKS = ("Could you please have a look?", "Can someone help me today?", "Is this a known issue?", "Thanks in advance!")
SIGN_OFFS = ("Best regards,\n{first}", "Thanks,\n{first}", "Cheers,\n{first}", "Kind regards,\n{first} {last}")
AGENT_REPLIES = (
    "Hi {first}, thanks for reporting this. I am looking into it now.",
    "Hi {first}, could you send me the exact error message and the time it happened?",
    "I have reset it on our side; please try again and let me know whether it works.",
    "We know about this issue and are working on a fix. I will update you as soon as I know more.",
    "Could you restart the {device} and check again?",
    "The replacement is ordered and should arrive within two working days.",
    "This should be fixed now. Can you confirm, {first}?",
)
REQUESTER_REPLIES = (
    "Thanks, it works again!",
    "Still the same problem, unfortunately.",
    "The message says: 'Access denied (code 403)'.",
    "I restarted it, no change.",
    "Any news on this?",
    "Yes, that fixed it. Thank you!",
)
INTERNAL_NOTES = (
    "Looks like the same issue as last week; checking the logs.",
    "Escalated to the vendor, case number {case}.",
    "Waiting for the change window on Thursday.",
    "Requester is a VIP: please handle today.",
    "Reproduced on a test machine.",
    "Asked Network to check the switch on the {floor} floor.",
)
STATUSES = ("new", "open", "pending", "on-hold", "solved", "closed")
STATUS_WEIGHTS = (15, 25, 15, 8, 22, 15)
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_WEIGHTS = (20, 55, 18, 7)
CHANNELS = ("web", "web", "mail", "mail", "mail", "phone")


@dataclass
class DemoSummary:
    """What :func:`make_demo` made or reused."""

    tickets: int
    comments: int
    requesters: int
    agents: int
    groups: int
    organizations: int
    agent_email: str | None  # an agent to sign in as (password :data:`DEMO_PASSWORD`)


@dataclass
class _Cast:
    groups: dict[str, list[User]]  # group name -> its agents
    requesters: list[User]
    colleagues: dict[int | None, list[User]]  # organization id -> its requesters
    organizations: int


def make_demo(desk: Desk, tickets: int, *, seed: int = 7, progress: Callable[[int], Any] | None = None) -> DemoSummary:
    """Fill the desk with ``tickets`` demo tickets and the people around them; ``progress(1)`` after each."""
    rng = random.Random(seed)  # noqa: S311 - repeatable demo data, not secrets
    cast = _setup(desk, max(1, tickets // 4))
    made_comments = 0
    for _ in range(tickets):
        made_comments += _one_ticket(desk, rng, cast)
        if progress is not None:
            progress(1)
    agents = {user.email for members in cast.groups.values() for user in members}
    return DemoSummary(
        tickets=tickets,
        comments=made_comments,
        requesters=len(cast.requesters),
        agents=len(agents),
        groups=len(cast.groups),
        organizations=cast.organizations,
        agent_email=min(agents) if agents else None,
    )


def requester_identity(index: int) -> tuple[str, str, str | None, str]:
    """First name, last name, organization and e-mail of demo requester ``index`` (the same on every run)."""
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index // len(FIRST_NAMES) + index) % len(LAST_NAMES)]
    organization, domain, _ = ORGANIZATIONS[index % len(ORGANIZATIONS)]
    round_ = index // (len(FIRST_NAMES) * len(LAST_NAMES))
    email = f"{first}.{last}{round_ or ''}@{domain}".lower()
    return first, last, organization, email


def _setup(desk: Desk, requester_count: int) -> _Cast:
    """Groups, agents, organizations and requesters: created when missing, reused when present."""
    with desk.action(SYSTEM, source="demo") as uow:
        for name, (description, _) in GROUPS.items():
            if not _exists(uow, Group, name):
                people.create_group(uow, {"name": name, "description": description})
        organizations = {org for org, _, _ in ORGANIZATIONS if org}
        for org, _, shared in dict.fromkeys(ORGANIZATIONS):
            if org and not _exists(uow, Organization, org):
                people.create_organization(uow, {"name": org, "shared": shared})
        for group_name, (_, agent_names) in GROUPS.items():
            for name in agent_names:
                email = f"{name.lower()}@{AGENT_DOMAIN}"
                _ensure_user(uow, email, name, role="agent", groups=[group_name], password=DEMO_PASSWORD)
        requesters = []
        for index in range(requester_count):
            first, last, org, email = requester_identity(index)
            password = DEMO_PASSWORD if index == 0 else None
            user = _ensure_user(uow, email, f"{first} {last}", organization=org, password=password)
            requesters.append(user)
        memberships = uow.session.scalars(
            select(GroupMembership)
            .join(Group)
            .where(Group.name.in_(GROUPS))
            .options(selectinload(GroupMembership.user), selectinload(GroupMembership.group))
            .order_by(GroupMembership.user_id)
        ).all()
        groups: dict[str, list[User]] = {name: [] for name in GROUPS}
        for membership in memberships:
            if membership.user.is_staff and membership.user.active and membership.group.name in groups:
                groups[membership.group.name].append(membership.user)
    colleagues: dict[int | None, list[User]] = {}
    for user in requesters:
        colleagues.setdefault(user.organization_id, []).append(user)
    return _Cast(groups, requesters, colleagues, organizations=len(organizations))


def _exists(uow: UnitOfWork, model: type[Group] | type[Organization], name: str) -> bool:
    return uow.session.scalar(select(model.id).where(func.lower(model.name) == name.lower())) is not None


def _ensure_user(uow: UnitOfWork, email: str, name: str, **values: Any) -> User:
    existing = uow.session.scalar(select(User).where(User.email == email))
    if existing is None:
        return people.create_user(uow, {"email": email, "name": name, **values})
    for group_name in values.get("groups", ()):
        group = people.find_group(uow, group_name)
        if existing.is_staff and uow.session.get(GroupMembership, (group.id, existing.id)) is None:
            people.add_member(uow, group_name, email)
    return existing


def _acting(uow: UnitOfWork, actor: Actor) -> UnitOfWork:
    """The same unit of work (session, transaction, emitted events) with another actor."""
    return dataclasses.replace(uow, actor=actor)


def _one_ticket(desk: Desk, rng: random.Random, cast: _Cast) -> int:
    """Create one ticket with its conversation and final status in one transaction; return its comment count."""
    group_name, type_, topic_tags, subject, opening = rng.choice(TOPICS)
    requester = cast.requesters[int(len(cast.requesters) * rng.random() ** 2)]  # a few requesters ask a lot
    first, last = requester.name.split(" ", 1) if " " in requester.name else (requester.name, "")
    words = {
        "app": rng.choice(APPS),
        "place": rng.choice(PLACES),
        "device": rng.choice(DEVICES),
        "floor": rng.choice(FLOORS),
        "since": rng.choice(SINCE),
        "case": rng.randint(100000, 999999),
        "first": first,
        "last": last,
    }
    target = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
    group, assignee = _routing(rng, cast, group_name, target)
    handler: Actor = assignee or (rng.choice(cast.groups[group]) if group and cast.groups[group] else SYSTEM)
    if group is None and handler is SYSTEM and cast.groups["Service Desk"]:
        handler = rng.choice(cast.groups["Service Desk"])  # the triage queue is everyone's
    data: dict[str, Any] = {
        "subject": _fill(subject, words),
        "body": _body(rng, opening, words),
        "requester": requester.email,
        "priority": rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
        "type": type_ if rng.random() < 0.9 else None,
        "tags": _tags(rng, topic_tags),
        "group": group,
        "assignee": assignee.email if assignee else None,
        "channel": rng.choice(CHANNELS),
    }
    colleagues = [u for u in cast.colleagues[requester.organization_id] if u is not requester]
    if requester.organization_id and colleagues and rng.random() < 0.1:
        data["ccs"] = [rng.choice(colleagues).email]
    with desk.action(SYSTEM, source="demo") as uow:
        number = tickets.create_ticket(uow, data).number
        made = _conversation(uow, rng, number, handler, requester, words, new=target == "new")
        current = tickets.get_ticket(uow, number).status.name
        if target != current:
            tickets.update_ticket(_acting(uow, handler), number, {"status": target})
    return made


def _routing(rng: random.Random, cast: _Cast, group_name: str, target: str) -> tuple[str | None, User | None]:
    """Group and assignee: new tickets are mostly untriaged, the rest mostly sit with the topic's group."""
    if target == "new":
        group = group_name if rng.random() < 0.5 else None
        return group, None
    roll = rng.random()
    group = group_name if roll < 0.9 else (rng.choice(sorted(GROUPS)) if roll < 0.95 else None)
    members = cast.groups[group] if group else [u for users in cast.groups.values() for u in users]
    assignee = rng.choice(members) if members and rng.random() < (0.85 if group else 0.5) else None
    return group, assignee


def _conversation(
    uow: UnitOfWork, rng: random.Random, number: int, agent: Actor, requester: User, words: dict[str, Any], *, new: bool
) -> int:
    """0 to 4 exchanges: an agent's reply (or internal note), often answered by the requester."""
    made = 0
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
        public = not new and rng.random() < 0.75
        text = rng.choice(AGENT_REPLIES if public else INTERNAL_NOTES)
        comments.add_comment(_acting(uow, agent), number, {"body": _fill(text, words), "public": public})
        made += 1
        if (public or new) and rng.random() < 0.6:
            reply = f"{rng.choice(REQUESTER_REPLIES)}\n\n{words['first']}"
            comments.add_comment(_acting(uow, requester), number, {"body": reply})
            made += 1
    return made


def _tags(rng: random.Random, topic_tags: tuple[str, ...]) -> list[str]:
    """0 to 3 tags: mostly the topic's own, now and then one from the general pool."""
    count = rng.choice((0, 1, 1, 2, 2, 3))
    chosen = rng.sample(topic_tags, min(count, len(topic_tags)))
    if len(chosen) < count or rng.random() < 0.15:
        chosen.append(rng.choice(EXTRA_TAGS))
    return sorted(set(chosen))[:3]


def _body(rng: random.Random, opening: str, words: dict[str, Any]) -> str:
    details = " ".join(rng.sample(DETAILS, rng.randint(0, 2)))
    parts = (rng.choice(GREETINGS), f"{opening} {details}".strip(), rng.choice(ASKS), rng.choice(SIGN_OFFS))
    return _fill("\n\n".join(parts), words)


def _fill(template: str, words: dict[str, Any]) -> str:
    text = template.format(**words)
    return text[0].upper() + text[1:]


__all__ = ["DEMO_PASSWORD", "DemoSummary", "make_demo", "requester_identity"]
