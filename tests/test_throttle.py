"""Login throttling: ten failures per account and address in fifteen minutes, then a wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.errors import FrontdeskError, TooManyAttempts
from frontdesk.models import LoginFailure
from frontdesk.services import throttle
from frontdesk.services.throttle import check_login_allowed, clear_login_failures, record_login_failure

EMAIL = "ann@example.com"
IP = "203.0.113.7"


def fail(desk: Desk, times: int, *, email: str = EMAIL, ip: str = IP, now=None) -> None:  # type: ignore[no-untyped-def]
    """``times`` sign-in attempts that each pass the check and then fail, as a login view would do it."""
    for _ in range(times):
        with desk.db.transaction() as session:
            check_login_allowed(session, email, ip, now=now)
            record_login_failure(session, email, ip, now=now)


def allowed(desk: Desk, *, email: str = EMAIL, ip: str = IP, now=None) -> bool:  # type: ignore[no-untyped-def]
    with desk.db.reading() as session:
        try:
            check_login_allowed(session, email, ip, now=now)
        except TooManyAttempts:
            return False
        return True


def refusal(desk: Desk, *, email: str = EMAIL, ip: str = IP, now=None) -> TooManyAttempts:  # type: ignore[no-untyped-def]
    with pytest.raises(TooManyAttempts) as caught, desk.db.reading() as session:
        check_login_allowed(session, email, ip, now=now)
    return caught.value


def test_ten_failures_are_allowed_and_the_eleventh_attempt_is_refused(desk: Desk) -> None:
    now = utcnow()
    fail(desk, 10, now=now)
    error = refusal(desk, now=now)
    assert isinstance(error, FrontdeskError)
    assert error.code == "too_many_attempts"
    assert error.retry_after == 15 * 60
    assert error.message == ("Too many failed sign-ins for this account from your address; try again in 15 minutes.")


def test_retry_after_counts_down_to_when_the_oldest_failure_leaves_the_window(desk: Desk) -> None:
    start = utcnow()
    for minute in range(10):
        fail(desk, 1, now=start + timedelta(minutes=minute))
    later = start + timedelta(minutes=9, seconds=30)
    # The first failure (at `start`) leaves the window at start + 15 minutes.
    assert refusal(desk, now=later).retry_after == 5 * 60 + 30
    assert "try again in 6 minutes" in refusal(desk, now=later).message
    assert refusal(desk, now=start + timedelta(minutes=14, seconds=31)).message.endswith("try again in 1 minute.")
    assert allowed(desk, now=start + timedelta(minutes=15))
    # One attempt is free then; failing it locks again until the second failure leaves the window.
    fail(desk, 1, now=start + timedelta(minutes=15))
    assert refusal(desk, now=start + timedelta(minutes=15)).retry_after == 60
    assert allowed(desk, now=start + timedelta(minutes=16))


def test_another_address_or_account_is_unaffected(desk: Desk) -> None:
    now = utcnow()
    fail(desk, 10, now=now)
    assert not allowed(desk, now=now)
    assert allowed(desk, ip="198.51.100.1", now=now)
    assert allowed(desk, email="bob@example.com", now=now)
    assert allowed(desk, ip=None, now=now)  # type: ignore[arg-type]


def test_the_account_is_matched_regardless_of_case_and_spaces(desk: Desk) -> None:
    now = utcnow()
    fail(desk, 5, email="Ann@Example.com ", now=now)
    fail(desk, 5, email="ann@example.com", now=now)
    assert not allowed(desk, email="ANN@EXAMPLE.COM", now=now)


def test_after_fifteen_minutes_sign_ins_are_allowed_again(desk: Desk) -> None:
    now = utcnow()
    fail(desk, 10, now=now)
    assert not allowed(desk, now=now + timedelta(minutes=14, seconds=59))
    assert allowed(desk, now=now + timedelta(minutes=15))


def test_a_successful_sign_in_clears_the_failures(desk: Desk) -> None:
    now = utcnow()
    fail(desk, 9, now=now)
    fail(desk, 9, ip="198.51.100.1", now=now)
    with desk.db.transaction() as session:
        clear_login_failures(session, EMAIL, IP)
    fail(desk, 9, now=now)
    assert allowed(desk, now=now)
    # Only that account and address were cleared.
    fail(desk, 1, ip="198.51.100.1", now=now)
    assert not allowed(desk, ip="198.51.100.1", now=now)


def test_the_account_is_never_stored_in_the_clear(desk: Desk) -> None:
    fail(desk, 1)
    with desk.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM login_failures")).mappings().all()
    assert len(rows) == 1
    assert all(EMAIL not in str(value) and IP not in str(value) for value in rows[0].values())
    assert rows[0]["key"] == throttle.login_key(" ANN@example.com", IP)


def test_old_failures_are_pruned(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    start = utcnow()
    fail(desk, 3, now=start)
    fail(desk, 3, email="bob@example.com", now=start)
    # Another failure of the same key after the window deletes that key's old rows.
    monkeypatch.setattr(throttle, "PRUNE_ALL_CHANCE", 0.0)
    fail(desk, 1, now=start + timedelta(minutes=16))
    with desk.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 4
    # Now and then a failure tidies every key.
    monkeypatch.setattr(throttle, "PRUNE_ALL_CHANCE", 1.0)
    fail(desk, 1, email="carol@example.com", now=start + timedelta(minutes=16))
    with desk.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 2
    with desk.db.transaction() as session:
        assert throttle.prune_login_failures(session, now=start + timedelta(minutes=40)) == 2


def test_the_check_is_one_query(desk: Desk) -> None:
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    fail(desk, 3)
    with desk.db.reading() as session:
        session.connection()  # BEGIN and the connection set-up are not the check's
        event.listen(desk.db.engine, "before_cursor_execute", count)
        try:
            check_login_allowed(session, EMAIL, IP)
        finally:
            event.remove(desk.db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert "login_failures" in statements[0]


def test_too_many_attempts_rounds_up_to_whole_minutes() -> None:
    assert TooManyAttempts(1).message.endswith("try again in 1 minute.")
    assert TooManyAttempts(61).message.endswith("try again in 2 minutes.")
    assert TooManyAttempts(0).retry_after == 1
