"""Frontdesk's web layer: the Flask application, its pages and its API."""

__version__ = "0.1.0"
