"""Hooks this plugin offers other plugins: its warning events, delivered after commit like ticket events."""

from __future__ import annotations

from typing import Any

from frontdesk import hookspec


@hookspec
def frontdesk_assets_loan_overdue(event: Any, actor: Any, desk: Any) -> None:
    """React to a loan past its return date (once per asset and return date).

    ``event.payload`` has ``asset_id``, ``asset_tag``, ``name``, ``assigned_to`` (e-mail) and
    ``expected_return`` (ISO date).

    :param event: the committed ``assets.loan_overdue`` event.
    :param actor: None (the desk's periodic job).
    :param desk: the desk.
    """


@hookspec
def frontdesk_assets_warranty_expiring(event: Any, actor: Any, desk: Any) -> None:
    """React to a warranty ending within the ``warranty_days`` setting (once per asset and end date).

    ``event.payload`` has ``asset_id``, ``asset_tag``, ``name``, ``assigned_to`` and ``warranty_end``.

    :param event: the committed ``assets.warranty_expiring`` event.
    :param actor: None (the desk's periodic job).
    :param desk: the desk.
    """
