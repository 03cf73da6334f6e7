"""Service level agreements for Frontdesk."""
