"""``frontdesk token``: create, list and revoke users' API tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import click

from frontdesk.cli.base import CliState, echo_json, echo_table
from frontdesk.models import ApiToken, TokenScope
from frontdesk.permissions import SYSTEM
from frontdesk.services import tokens
from frontdesk.uow import UnitOfWork


class ExpiryType(click.ParamType):
    """Days until a token expires: ``90d`` or ``90``; ``never`` for a token that does not expire."""

    name = "DAYS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "never":
            return None
        match = re.fullmatch(r"(\d{1,9})\s*d?", text)
        if match is None:
            self.fail(f"{value!r} is not a number of days such as '90d' or '90', or 'never'", param, ctx)
        return int(match.group(1))


def _when(value: str | None) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@click.group()
def token() -> None:
    """Create, list and revoke API tokens (bearer tokens for API clients)."""


@token.command("create")
@click.option("--user", "email", required=True, metavar="EMAIL", help="The user the token acts as.")
@click.option("--name", default="API token", show_default=True, help="What the token is for, e.g. 'backup script'.")
@click.option(
    "--scope",
    type=click.Choice([s.value for s in TokenScope]),
    default=TokenScope.READ.value,
    show_default=True,
    help="read < write < admin; admin only for admins.",
)
@click.option(
    "--expires",
    type=ExpiryType(),
    default="never",
    show_default=True,
    help="Days until it expires: '90d' or '90' (1 to 3650), or 'never'.",
)
@click.pass_obj
def token_create(state: CliState, email: str, name: str, scope: str, expires: int | None) -> None:
    """Create a token for --user and print it; it is shown this once only."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        created, secret = tokens.create_token(
            uow, {"user": email, "name": name, "scope": scope, "expires_in_days": expires}
        )
        expiry = f"expires {created.expires_at:%Y-%m-%d %H:%M} UTC" if created.expires_at else "never expires"
        summary = (
            f"Created token {created.id} {created.name!r} for {created.user.email} (scope {created.scope}, {expiry}):"
        )
    click.echo(summary)
    click.echo(secret)
    click.echo("Copy it now: it cannot be shown again (only its hash is stored).")


@token.command("list")
@click.option("--user", "email", metavar="EMAIL", help="Only this user's tokens (default: everyone's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def token_list(state: CliState, email: str | None, as_json: bool) -> None:
    """List tokens, newest first (never the tokens themselves)."""
    with state.desk.reading(SYSTEM) as uow:
        rows = tokens.list_tokens(uow, email)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        row["prefix"] = f"{row['prefix']}..."
        for column in ("created_at", "expires_at", "last_used_at"):
            row[column] = _when(row[column])
    echo_table(rows, ["id", "user", "name", "prefix", "scope", "state", "created_at", "expires_at", "last_used_at"])


@token.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@click.pass_obj
def token_revoke(state: CliState, token_id: int) -> None:
    """Revoke token ID: API requests with it are refused from now on."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        revoked_before = _already_revoked(uow, token_id)
        revoked = tokens.revoke_token(uow, token_id)
        line = f"token {revoked.id} {revoked.name!r} of {revoked.user.email}"
    if revoked_before:
        click.echo(f"The {line} was already revoked.")
    else:
        click.echo(f"Revoked {line}.")


def _already_revoked(uow: UnitOfWork, token_id: int) -> bool:
    found = uow.session.get(ApiToken, token_id)
    return found is not None and found.revoked_at is not None
