"""workplace-occupancy: the shared package (settings, building model, events, schema, CLI)."""

__version__ = "0.1.0"
