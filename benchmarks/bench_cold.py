"""The cold first call: how long a fresh install waits before its first replication is simulated.

Each figure is a fresh process with its own empty numba cache (``NUMBA_CACHE_DIR`` in a temporary folder), as
after ``pip install``:

* ``paysim warm-up`` on an empty cache (it compiles every kernel a run uses, once per install);
* the first run after it: process start to the end of one replication of the default scenario (imports, the
  kernels loaded from the cache, the draws and the simulation);
* the same first run without the warm-up (the kernels compiled in the middle of the run).

Usage::

    .venv/bin/python benchmarks/bench_cold.py [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_RUN = """
import time
started = time.perf_counter()
from paysim.engines import vector
from paysim.model.scenario import bundled_scenarios, load_scenario
scenario = load_scenario(bundled_scenarios()["default"])
imported = time.perf_counter()
vector.run(scenario, [0], use_numba=True)
print(imported - started, time.perf_counter() - imported)
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="2", help="NUMBA_NUM_THREADS of the processes (default 2)")
    args = parser.parse_args()
    base = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": args.threads}
    base.pop("PAYSIM_THREADS", None)
    rows = []
    with tempfile.TemporaryDirectory() as warm, tempfile.TemporaryDirectory() as cold:
        env = {**base, "NUMBA_CACHE_DIR": warm}
        seconds, _ = timed([sys.executable, "-m", "paysim", "warm-up"], env)
        rows.append(("paysim warm-up, empty cache", seconds, ""))
        seconds, out = timed([sys.executable, "-c", FIRST_RUN], env)
        imports, run = map(float, out.split())
        rows.append(("first run after the warm-up", seconds, f"imports {imports:.1f} s, one replication {run:.1f} s"))
        seconds, out = timed([sys.executable, "-c", FIRST_RUN], {**base, "NUMBA_CACHE_DIR": cold})
        imports, run = map(float, out.split())
        rows.append(("first run, no warm-up", seconds, f"imports {imports:.1f} s, one replication {run:.1f} s"))
    print(f"{'cold first call (default scenario, 3 years + warm-up)':<40}")
    for label, seconds, note in rows:
        print(f"  {label:<30} {seconds:6.1f} s   {note}")


if __name__ == "__main__":
    main()
