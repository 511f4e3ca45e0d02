"""``python -m occupancy`` is the ``occupancy`` command (an entry point, not part
of the shared core: nothing imports it; ``.importlinter`` lists it)."""

from app.cli import main

main()
