"""How long the Streamlit app takes to rerun when a finance director moves one lever (lower is better).

The app is run headless through Streamlit's ``AppTest`` (the real script, its caches and every table and
chart it builds; not the browser's drawing) on the bundled default scenario with 5 contract years and
1,000 replications of the vector engine. Seven timings, in seconds:

* ``cold``: the first run of the 5-year scenario (one simulation: the file and the edits are the same);
* ``activity_lever``: demand growth 3 % -> 6 % on every line (every line simulated again);
* ``contract_lever``: the block value up by 5m (the simulation is reused; only the money is recomputed);
* ``back_to_cached``: demand growth back to a value already run (everything from the cache);
* ``beds_lever``: local beds +10 (only the ward is simulated; the other lines come from the line cache);
* ``staffing_lever``: community vacancies +5 points (the community team and the ward);
* ``stay_lever``: mean length of stay +3 days (the ward and the community team).

Measured 2026-11-23 on the shared 2-core development machine, vector engine with threaded numba kernels::

    cold                29.7 s
    activity_lever      29.2 s
    contract_lever       1.00 s
    back_to_cached       0.79 s
    beds_lever           4.39 s   (a full simulation, as activity_lever, before the line cache)
    staffing_lever      12.8 s
    stay_lever          12.9 s
    line cache         443 MiB in 152 entries

A contract or cost lever, or any value already visited, reruns in about a second; a lever that changes one
line waits for that line and what it feeds; one that changes every line waits for the whole engine (the
target of about a second for 1,000 x 5 years is not met for those).

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

    from paysim.app_support.runs import LINES

    os.environ.pop("PAYSIM_SCENARIOS", None)
    st.cache_data.clear()
    LINES.clear()
    at = AppTest.from_file(str(APP), default_timeout=3600)
    at.session_state["engine"] = engine
    at.session_state[f"reps-{engine}"] = reps
    at.run()  # the default scenario as shipped (its own years); not timed

    def widget(label: str):
        [found] = [w for w in [*at.slider, *at.number_input] if w.label.startswith(label)]
        return found

    def timed(label: str, value: float) -> float:
        widget(label).set_value(value)
        started = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - started
        if at.exception or at.error:
            raise RuntimeError([e.value for e in [*at.exception, *at.error]])
        if widget(label).value != value:
            raise RuntimeError(f"{label}: set to {value}, the app shows {widget(label).value}")
        return seconds

    block = widget("Block value").value
    growth = widget("Demand growth").value
    return {
        "cold": timed("Years", years),
        "activity_lever": timed("Demand growth", 6.0),
        "contract_lever": timed("Block value", block + 5),
        "back_to_cached": timed("Demand growth", growth),
        "beds_lever": timed("Local adult acute beds", widget("Local adult acute beds").value + 10),
        "staffing_lever": timed("Community vacancies", widget("Community vacancies").value + 5),
        "stay_lever": timed("Mean length of stay", widget("Mean length of stay").value + 3),
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

    def track_beds_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["beds_lever"]

    def track_staffing_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["staffing_lever"]

    def track_stay_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["stay_lever"]

    def track_contract_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["contract_lever"]

    def track_back_to_cached_seconds(self, timings: dict[str, float]) -> float:
        return timings["back_to_cached"]

    track_cold_seconds.unit = "seconds"
    track_activity_lever_seconds.unit = "seconds"
    track_beds_lever_seconds.unit = "seconds"
    track_staffing_lever_seconds.unit = "seconds"
    track_stay_lever_seconds.unit = "seconds"
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
    from paysim.app_support.runs import LINES

    print(f"  line cache       {LINES.nbytes / 2**20:8.0f} MiB in {len(LINES)} entries")


if __name__ == "__main__":
    main()
