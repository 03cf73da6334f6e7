"""``frontdesk demo``: fill the desk with realistic demo tickets to try it out."""

from __future__ import annotations

import click

from frontdesk.cli.base import CliState
from frontdesk.demo import DEMO_PASSWORD, make_demo, requester_identity


@click.command()
@click.option("--tickets", default=1000, show_default=True, type=click.IntRange(min=1), help="How many tickets.")
@click.option("--seed", default=7, show_default=True, help="Random seed: the same seed makes the same tickets.")
@click.pass_obj
def demo(state: CliState, tickets: int, seed: int) -> None:
    """Create demo groups, agents, requesters and tickets (existing demo people are reused)."""
    with click.progressbar(length=tickets, label="Creating demo tickets") as bar:
        summary = make_demo(state.desk, tickets, seed=seed, progress=bar.update)
    click.echo(
        f"Created {summary.tickets} tickets with {summary.comments} comments for {summary.requesters} requesters, "
        f"{summary.agents} agents in {summary.groups} groups."
    )
    if summary.agent_email:
        requester = requester_identity(0)[3]
        click.echo(
            f"Sign in as an agent, e.g. {summary.agent_email}, or as the requester {requester}, "
            f"with the password {DEMO_PASSWORD!r}."
        )
