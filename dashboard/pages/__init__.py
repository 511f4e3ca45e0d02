"""workplace-occupancy: dashboard/pages."""
