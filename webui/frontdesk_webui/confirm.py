"""Asking before a page deletes something: the ``confirm=yes`` check and the confirmation page.

A delete form carries ``data-confirm="Delete …?"``: the layout's ``confirm.js`` asks in a dialog and
adds ``confirm=yes``. Without scripts the form arrives unconfirmed, and the view answers with
:func:`confirm_page`, whose form sends the same request again with ``confirm=yes``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import render_template, request, url_for


def confirmed() -> bool:
    """Whether the posted form says ``confirm=yes`` (from the dialog or from the confirmation page)."""
    return request.form.get("confirm") == "yes"


def confirm_page(
    what: str,
    name: str,
    consequence: str,
    section: str,
    back: str,
    fields: Mapping[str, str] | None = None,
    *,
    page: str = "confirm.html",
    verb: str = "Delete",
) -> tuple[str, int]:
    """Ask before deleting: a page whose form posts the same request again with ``confirm=yes``.

    ``what`` and ``name`` say what goes ("calendar", "Office"), ``consequence`` what follows from it;
    ``section`` and ``back`` label and link the page to return to ("Keep it"). ``fields`` are posted
    along (say, the name of what to delete when the address does not carry it). ``page`` is the
    template around the question (``admin/confirm.html`` keeps the admin console's navigation).
    ``verb`` names the act where "Delete" would not be true ("Revoke" a token, "Remove" a link).
    """
    html = render_template(
        page,
        what=what,
        name=name,
        consequence=consequence,
        section=section,
        back=back,
        verb=verb,
        fields=fields or {},
        action=url_for(request.endpoint or "", **(request.view_args or {})),
    )
    return html, 200
