"""The command group imports the packages' commands on lookup (app.cli)."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from app.cli import FAST_COMMANDS, PLUGINS, main, plugin_commands


def test_fast_commands_are_the_packages_own() -> None:
    every = {c.name: c for entry in PLUGINS for c in plugin_commands(*entry)}
    for name, entry in FAST_COMMANDS.items():
        fast = {c.name: c for c in plugin_commands(*entry)}
        assert fast[name] is every[name], name


def test_every_plugin_command_is_listed() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    for entry in PLUGINS:
        for cmd in plugin_commands(*entry):
            assert f"  {cmd.name} " in out, cmd.name


def test_analyze_imports_no_other_package() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from app.cli import main\n"
        "r = CliRunner().invoke(main, ['analyze', '--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dash', 'plotly', 'ortools', 'sklearn', 'dashboard', 'sensors_sim', "
        "'ingest', 'api', 'notify', 'pandas'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
