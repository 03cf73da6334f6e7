"""Hooks the email plugin offers other plugins: the stages of the inbound pipeline.

The email plugin implements each stage itself (as the last implementation), so a plugin can
replace a stage by answering first (classify, route) or add to it (threading evidence).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from frontdesk import hookspec

if TYPE_CHECKING:
    from frontdesk.uow import UnitOfWork
    from frontdesk_email.classify import Classification
    from frontdesk_email.parse import ParsedMessage
    from frontdesk_email.thread import Evidence


@hookspec(firstresult=True)
def frontdesk_email_classify(message: ParsedMessage, own_addresses: Collection[str]) -> Classification | None:
    """Classify an inbound message (person, automatic, bounce, own loop). First non-None wins.

    Called once per message after parsing. Return a :class:`frontdesk_email.classify.Classification`
    to decide (e.g. a spam filter answering ``automatic`` with its signal), or None to leave it to
    the next implementation; the email plugin's RFC 3834 classifier answers last.

    :param message: the parsed message.
    :param own_addresses: the desk's own mail addresses (lower case), for loop detection.
    """


@hookspec
def frontdesk_email_thread_evidence(uow: UnitOfWork, message: ParsedMessage) -> list[Evidence]:
    """Return threading clues (:class:`frontdesk_email.thread.Evidence`) naming tickets; all are combined.

    Called once per message that is not rejected by classification, inside the processing
    transaction. The email plugin contributes signed Message-IDs, reply addresses, known references
    and subject tokens; the ticket with the highest total score wins.

    :param uow: the unit of work processing the message.
    :param message: the parsed message.
    """


@hookspec(firstresult=True)
def frontdesk_email_route(uow: UnitOfWork, message: ParsedMessage, mailbox: Any) -> str | None:
    """Return the name of the group a new ticket from this message goes to. First non-None wins.

    Called when a message opens a ticket. The email plugin answers last with the mailbox's group
    (None when the message came through no mailbox, or the mailbox has no group).

    :param uow: the unit of work processing the message.
    :param message: the parsed message.
    :param mailbox: the :class:`frontdesk_email.models.Mailbox` it arrived at, or None.
    """
