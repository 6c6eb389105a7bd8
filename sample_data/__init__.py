"""Transaction simulator: customers, terminals, spending profiles and labelled fraud scenarios.

Use it from code as ``from sample_data.simulate import SimulationConfig, simulate`` (the
function shares its name with the CLI module ``python -m sample_data.simulate``, so it is not
re-exported here: the package attribute ``simulate`` is that module).
"""

from sample_data.config import FRAUD_SCENARIOS, SCENARIOS, SimulationConfig
from sample_data.formats import read_frame, write_frame

__all__ = ["FRAUD_SCENARIOS", "SCENARIOS", "SimulationConfig", "read_frame", "write_frame"]
