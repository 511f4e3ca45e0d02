"""workplace-occupancy: dashboard."""
