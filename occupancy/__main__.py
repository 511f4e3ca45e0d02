"""``python -m occupancy`` is the ``occupancy`` command."""

from occupancy.cli import main

main()
