"""How long the Streamlit app takes to rerun when a finance director moves one lever (lower is better).

The app is run headless through Streamlit's ``AppTest`` (the real script, its caches and every table and
chart it builds; not the browser's drawing) on the bundled default scenario with 5 contract years and
1,000 replications of the vector engine. Four timings, in seconds:

* ``cold``: the first run of the 5-year scenario (one simulation: the file and the edits are the same);
* ``activity_lever``: demand growth 3 % -> 6 % (a new simulation of the edited scenario; the file's is
  cached);
* ``contract_lever``: the block value up by 5m (the simulation is reused; only the money is recomputed);
* ``back_to_cached``: demand growth back to a value already run (everything from the cache).

Measured 2026-11-23 on the shared 2-core development machine, vector engine with threaded numba kernels::

    cold                26.8 s
    activity_lever      29.9 s   (the vector engine simulating 1,000 x 5 years of the default trust)
    contract_lever       0.81 s
    back_to_cached       0.74 s

and at the app's starting point (``--reps 200 --years 3``): activity lever 4.9 s, contract lever 0.62 s,
back to a cached value 0.76 s. A contract or cost lever, or any value already visited, reruns in under a
second; a lever that changes the simulated activity waits for the engine (about 0.03 s per replication of
5 years here; the target of about a second for 1,000 x 5 years is not met).

Usage::

    .venv/bin/python benchmarks/bench_app.py [--reps 1000] [--years 5] [--engine vector]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def measure_reruns(reps: int = 1000, years: int = 5, engine: str = "vector") -> dict[str, float]:
    """Seconds of each app rerun described in the module docstring (default scenario, no other settings)."""
    import os

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ.pop("PAYSIM_SCENARIOS", None)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=3600)
    at.session_state["engine"] = engine
    at.session_state[f"reps-{engine}"] = reps
    at.run()  # the default scenario as shipped (its own years); not timed

    def timed(label: str, kind: str, value: float) -> float:
        [widget] = [w for w in getattr(at, kind) if w.label.startswith(label)]
        widget.set_value(value)
        started = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - started
        if at.exception or at.error:
            raise RuntimeError([e.value for e in [*at.exception, *at.error]])
        [now] = [w for w in getattr(at, kind) if w.label.startswith(label)]
        if now.value != value:
            raise RuntimeError(f"{label}: set to {value}, the app shows {now.value}")
        return seconds

    block = next(w for w in at.number_input if w.label.startswith("Block value")).value
    growth = next(w for w in at.slider if w.label.startswith("Demand growth")).value
    return {
        "cold": timed("Years", "slider", years),
        "activity_lever": timed("Demand growth", "slider", 6.0),
        "contract_lever": timed("Block value", "number_input", block + 5),
        "back_to_cached": timed("Demand growth", "slider", growth),
    }


class AppRerun:
    """asv: seconds for the app to rerun after one lever moves (default scenario, 5 years, 1,000 reps)."""

    timeout = 3600
    number = 1
    repeat = 1

    def setup_cache(self) -> dict[str, float]:
        return measure_reruns()

    def track_cold_seconds(self, timings: dict[str, float]) -> float:
        return timings["cold"]

    def track_activity_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["activity_lever"]

    def track_contract_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["contract_lever"]

    def track_back_to_cached_seconds(self, timings: dict[str, float]) -> float:
        return timings["back_to_cached"]

    track_cold_seconds.unit = "seconds"
    track_activity_lever_seconds.unit = "seconds"
    track_contract_lever_seconds.unit = "seconds"
    track_back_to_cached_seconds.unit = "seconds"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="replications (default 1000)")
    parser.add_argument("--years", type=int, default=5, help="contract years (default 5)")
    parser.add_argument("--engine", default="vector", help="engine (default vector)")
    args = parser.parse_args()
    timings = measure_reruns(args.reps, args.years, args.engine)
    print(f"app reruns, default scenario, {args.reps:,} replications x {args.years} years, engine {args.engine}")
    for name, seconds in timings.items():
        print(f"  {name:<16} {seconds:8.2f} s")


if __name__ == "__main__":
    main()
