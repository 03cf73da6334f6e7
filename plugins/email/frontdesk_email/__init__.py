"""Frontdesk's email channel."""

__version__ = "0.1.0"
