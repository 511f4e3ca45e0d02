"""The application layer: the ``occupancy`` command group, the demo and the
private development services. It sits on top of every package and nothing
imports it (``.importlinter``, docs/architecture.md)."""
