"""workplace-occupancy: analytics."""
