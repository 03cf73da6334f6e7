"""Asset management and CMDB for Frontdesk."""
