"""The answer to "why is this here?": a message's stored decision told as sentences an agent can check."""

from __future__ import annotations

from typing import Any

_OUTCOMES = {
    "created": "It opened ticket #{ticket}.",
    "appended": "It was added to ticket #{ticket}.",
    "linked": "Ticket #{follow_up_of} is closed, so it opened the linked follow-up #{ticket}.",
    "discarded": "An agent discarded it.",
}
_STATUS = {
    "review": "It waits for an agent in the review queue.",
    "rejected": "It was refused.",
    "quarantined": "It was quarantined unprocessed.",
    "failed": "Processing it failed; it can be retried from the failed list.",
    "received": "It was recorded and waits to be processed.",
}


def explain(decision: dict[str, Any], *, ticket: int | None = None) -> list[str]:
    """Sentences explaining what the pipeline decided about a message, strongest reason first."""
    lines: list[str] = []
    if decision.get("mailbox"):
        lines.append(f"Received at {decision['mailbox']} (by {decision.get('source', 'mail')}).")
    kind = decision.get("classification") or {}
    if kind.get("kind") and kind["kind"] != "person":
        lines.append(f"Classified as {kind['kind'].replace('_', ' ')}: {'; '.join(kind.get('signals', []))}.")
        if decision.get("suppress_autoreply"):
            lines.append("No automatic reply is sent to it and it reopens nothing.")
    verdict = decision.get("thread") or {}
    clues = verdict.get("evidence") or []
    if verdict.get("ticket"):
        lines.append(f"Threading evidence points to ticket #{verdict['ticket']} with a score of {verdict['score']}:")
        lines.extend(f"  - {clue['detail']} ({clue['kind'].replace('_', ' ')}, +{clue['score']})" for clue in clues)
    elif clues:
        lines.append("Threading clues named no existing ticket:")
        lines.extend(f"  - {clue['detail']}" for clue in clues)
    elif kind.get("kind") in (None, "person") and decision.get("status"):
        lines.append("No threading evidence (no known Message-ID, reply address or [#number]): a new conversation.")
    if decision.get("participant"):
        lines.append(f"The sender takes part in the ticket as {decision['participant']}.")
    if decision.get("closed_ticket_policy"):
        lines.append(f"Closed-ticket policy: {decision['closed_ticket_policy'].replace('_', ' ')}.")
    if decision.get("policy_note"):
        lines.append(decision["policy_note"].capitalize() + ".")
    if decision.get("stripped"):
        lines.append("Quoted history and signature were left out of the comment; the original keeps them.")
    for item in decision.get("attachments_skipped", []):
        lines.append(f"Attachment {item['filename']!r} ({item['size']} bytes) was not stored: {item['reason']}.")
    outcome = decision.get("outcome")
    if outcome in _OUTCOMES and decision.get("status") != "review":
        lines.append(_OUTCOMES[outcome].format(ticket=ticket, follow_up_of=decision.get("follow_up_of")))
    elif decision.get("status") in _STATUS:
        lines.append(_STATUS[decision["status"]])
    if decision.get("reason"):
        lines.append(f"Reason: {decision['reason']}.")
    review = decision.get("review")
    if review:
        lines.append(f"Reviewed: {review['action'].replace('_', ' ')} by {review['by']} at {review['at'][:16]} UTC.")
    return lines
