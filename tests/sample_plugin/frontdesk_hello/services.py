"""Greeting people, through a unit of work like every service."""

from sqlalchemy import func, select

from frontdesk.services.plugins import get_settings
from frontdesk.uow import UnitOfWork
from frontdesk_hello.models import Greeting


def greet(uow: UnitOfWork, name: str) -> str:
    """Record a greeting and return its text, shaped by the plugin's settings."""
    uow.require("hello.greet")
    settings = get_settings(uow, "hello")
    uow.session.add(Greeting(name=name))
    text = f"{settings['greeting']}, {name}!"
    return text.upper() if settings["shout"] else text


def count(uow: UnitOfWork) -> int:
    """How many greetings are stored."""
    return uow.session.scalar(select(func.count(Greeting.id))) or 0
