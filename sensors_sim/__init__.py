"""workplace-occupancy: sensors_sim."""
