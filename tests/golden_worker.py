"""``mpirun -n 2 python tests/golden_worker.py LOG_DIR OUT_JSON``: the ``mpi2_cartpole`` golden trace."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_trace import run_case

from baselines_tf2.mpi import mpi_util

if __name__ == "__main__":
    log_dir, out = sys.argv[1], sys.argv[2]
    trace = run_case("mpi2_cartpole", log_dir)  # rank 0 logs; every rank writes its monitor files there
    if mpi_util.rank() == 0:
        Path(out).write_text(json.dumps(trace))
