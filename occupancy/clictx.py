"""What every ``occupancy`` command gets: the resolved settings.

The contract between the command group (``app.cli``, the top layer) and the
commands each package contributes from its ``cli.py``: it lives in the shared
core because those packages sit below the application layer and must not
import it.
"""

from __future__ import annotations

from collections.abc import Mapping

import click

from occupancy.db import Connection
from occupancy.example_secrets import check_no_example_secrets
from occupancy.settings import SettingError, Settings, load_settings

__all__ = ["CliContext", "pass_ctx"]


class CliContext:
    """What every command gets: resolved settings (lazily, so --help never fails)."""

    def __init__(self, overrides: Mapping[str, object]) -> None:
        self._overrides = overrides
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self._overrides)
                check_no_example_secrets(self._settings)
            except SettingError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings

    def connect(self) -> Connection:
        """A database connection, or a click error that says what to do."""
        from occupancy.db import DatabaseError, connect

        try:
            return connect(
                self.settings.effective_database_url,
                timeout_s=self.settings.db_connect_timeout_s,
            )
        except DatabaseError as exc:
            raise click.ClickException(
                f"{exc}\nIs the database running? "
                "For development: `occupancy services start`."
            ) from exc


pass_ctx = click.make_pass_decorator(CliContext)
