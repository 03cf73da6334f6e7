"""Test support for Frontdesk and its plugins; the fixtures live in :mod:`frontdesk.testing.pytest_plugin`."""
