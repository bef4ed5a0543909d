"""§2 steps 3–4: optical flow between consecutive frames and the statistics selection uses."""

from wilddeblur.flow.backends import BACKENDS, FlowBackend, make_backend
from wilddeblur.flow.stats import STATISTICS, PairStatistics, flow_table, pair_statistics

__all__ = ["BACKENDS", "STATISTICS", "FlowBackend", "PairStatistics", "flow_table", "make_backend",
           "pair_statistics"]
