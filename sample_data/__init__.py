"""Transaction simulator: customers, terminals, spending profiles and labelled fraud scenarios."""

from sample_data.config import FRAUD_SCENARIOS, SCENARIOS, SimulationConfig
from sample_data.formats import read_frame, write_frame
from sample_data.simulate import simulate

__all__ = [
    "FRAUD_SCENARIOS",
    "SCENARIOS",
    "SimulationConfig",
    "read_frame",
    "simulate",
    "write_frame",
]
