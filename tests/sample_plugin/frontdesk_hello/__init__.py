"""A sample third-party plugin: a table, a setting, a permission, a command and a page."""
