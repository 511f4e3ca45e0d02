"""workplace-occupancy: sensors_sim, a simulated office whose devices publish
like real ones, with the ground truth beside it (see docs/simulator.md).

In-process API::

    from sensors_sim import simulate, load_scenario
    result = simulate(site, load_scenario(None), date(2026, 3, 2), days=5, seed=1)
    result.truth["intervals"], result.messages
"""

from __future__ import annotations

from .engine import TRUTH_TABLES, SimResult, simulate
from .scenario import Faults, Scenario, ScenarioError, Sensors, load_scenario

__all__ = [
    "TRUTH_TABLES",
    "Faults",
    "Scenario",
    "ScenarioError",
    "Sensors",
    "SimResult",
    "load_scenario",
    "simulate",
]
