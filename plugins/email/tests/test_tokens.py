"""Threading tokens name their ticket, and a forged or altered token names none."""

from __future__ import annotations

from frontdesk_email import tokens

KEY = tokens.threading_key("test-secret-key")
OTHER_KEY = tokens.threading_key("another-desk")


def test_message_ids_name_their_ticket_and_are_unique() -> None:
    first = tokens.make_message_id(KEY, 42, "desk.example.com")
    second = tokens.make_message_id(KEY, 42, "desk.example.com")
    assert first != second
    assert first.startswith("<fd-42-")
    assert first.endswith("@desk.example.com>")
    assert tokens.ticket_of_message_id(KEY, first) == 42
    assert tokens.ticket_of_message_id(KEY, f"<old@x> {second}") == 42, "found inside a References header"


def test_forged_message_ids_name_no_ticket() -> None:
    genuine = tokens.make_message_id(KEY, 42, "desk.example.com")
    assert tokens.ticket_of_message_id(OTHER_KEY, genuine) is None
    assert tokens.ticket_of_message_id(KEY, genuine.replace("fd-42-", "fd-43-")) is None
    assert tokens.ticket_of_message_id(KEY, "<CAF=abc@mail.gmail.com>") is None


def test_reply_addresses_round_trip_and_resist_forgery() -> None:
    tagged = tokens.reply_address(KEY, "help@desk.example.com", 7)
    assert tagged.startswith("help+t7-")
    assert tagged.endswith("@desk.example.com")
    assert tokens.ticket_of_address(KEY, tagged) == 7
    assert tokens.ticket_of_address(OTHER_KEY, tagged) is None
    assert tokens.ticket_of_address(KEY, tagged.replace("+t7-", "+t8-")) is None
    assert tokens.ticket_of_address(KEY, "help@desk.example.com") is None
    assert tokens.untagged(tagged) == "help@desk.example.com"
    assert tokens.untagged("help@desk.example.com") == "help@desk.example.com"


def test_subject_tokens() -> None:
    assert tokens.subject_number("Re: [#123] Printer on fire") == 123
    assert tokens.subject_number("Printer #123 on fire") is None
    assert tokens.subject_number("") is None
