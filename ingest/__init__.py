"""workplace-occupancy: ingest."""
