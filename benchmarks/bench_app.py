"""How long the Streamlit app takes to rerun when a finance director moves one lever (lower is better).

The app is run headless through Streamlit's ``AppTest`` (the real script, its caches and every table and
chart it builds; not the browser's drawing) on the bundled default scenario with 5 contract years and
1,000 replications of the vector engine. Seven reruns, each timed twice, in seconds: until the page has
drawn a **first look** (a run that would take more than about a second shows its first 20 replications
while the rest are simulated; see ``paysim.app_support.runs.PieceRun``), and until the **whole run** is on
the page (both the same when the run came at once):

* ``cold``: the first run of the 5-year scenario (one simulation: the file and the edits are the same);
* ``activity_lever``: demand growth 3 % -> 6 % on every line (every line simulated again);
* ``contract_lever``: the block value up by 5m (the simulation is reused; only the money is recomputed);
* ``back_to_cached``: demand growth back to a value already run (everything from the cache);
* ``beds_lever``: local beds +10 (the ward; its requests too, as the line cache let them go for the last
  lever's; the other lines come from the line cache);
* ``beds_again``: local beds +10 again (the ward's queue alone, on the requests kept by the last run);
* ``staffing_lever``: community vacancies +5 points (the community team, on step-downs of kept requests);
* ``stay_lever``: mean length of stay +3 days (the ward's requests, the ward and the community team).

Measured 2026-11-23 on the shared 2-core development machine, vector engine with threaded numba kernels::

                     first look  whole run
    cold                 2.50 s    28.57 s
    activity_lever       2.31 s    30.10 s
    contract_lever       0.92 s     0.92 s
    back_to_cached       1.00 s     1.00 s
    beds_lever           1.12 s     5.74 s
    beds_again           1.83 s     1.83 s
    staffing_lever       1.36 s    10.03 s
    stay_lever           1.54 s    13.53 s
    line cache            755 MiB in 187 entries

A contract or cost lever, or any value already visited, reruns whole in about a second, and so does the beds
lever once the ward's requests are in the line cache (1.8 s). Another lever that changes the patients shows a
first look in 1.1-2.5 s; its whole run waits for the lines it reaches (every line for demand growth), and takes
about a second longer than drawn once (the page is drawn twice). The target of about a second for the whole
1,000 x 5 years is met for contract and cost levers and, nearly, for beds.

The **cold path** (``--cold``) is what a finance director meets first: ``streamlit run app.py`` and a browser
opening the page, timed from the command to the server's health check, the page's title, the first figures of
who carries the risk (the default scenario as shipped, 200 replications, first look on 20) and the whole run;
once with numba's on-disk cache empty (a fresh install: the kernels compile, started in the background at the
first page) and once with it warm (a server restart). See the README's app section for the figures measured.

Usage::

    .venv/bin/python benchmarks/bench_app.py [--reps 1000] [--years 5] [--engine vector]
    .venv/bin/python benchmarks/bench_app.py --cold
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

    timings: dict[str, float] = {}

    def timed(name: str, label: str, value: float) -> None:
        widget(label).set_value(value)
        started = time.perf_counter()
        at.run()
        timings[name] = time.perf_counter() - started
        if at.exception or at.error:
            raise RuntimeError([e.value for e in [*at.exception, *at.error]])
        if widget(label).value != value:
            raise RuntimeError(f"{label}: set to {value}, the app shows {widget(label).value}")
        shown = at.session_state["results"].first_look_at  # None when the whole run came at once
        timings[f"{name}_first_look"] = timings[name] if shown is None else shown - started

    block = widget("Block value").value
    growth = widget("Demand growth").value
    timed("cold", "Years", years)
    timed("activity_lever", "Demand growth", 6.0)
    timed("contract_lever", "Block value", block + 5)
    timed("back_to_cached", "Demand growth", growth)
    timed("beds_lever", "Local adult acute beds", widget("Local adult acute beds").value + 10)
    timed("beds_again", "Local adult acute beds", widget("Local adult acute beds").value + 10)
    timed("staffing_lever", "Community vacancies", widget("Community vacancies").value + 5)
    timed("stay_lever", "Mean length of stay", widget("Mean length of stay").value + 3)
    return timings


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

    def track_beds_again_seconds(self, timings: dict[str, float]) -> float:
        return timings["beds_again"]

    def track_staffing_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["staffing_lever"]

    def track_stay_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["stay_lever"]

    def track_contract_lever_seconds(self, timings: dict[str, float]) -> float:
        return timings["contract_lever"]

    def track_back_to_cached_seconds(self, timings: dict[str, float]) -> float:
        return timings["back_to_cached"]

    def track_activity_lever_first_look_seconds(self, timings: dict[str, float]) -> float:
        return timings["activity_lever_first_look"]

    def track_beds_lever_first_look_seconds(self, timings: dict[str, float]) -> float:
        return timings["beds_lever_first_look"]

    def track_staffing_lever_first_look_seconds(self, timings: dict[str, float]) -> float:
        return timings["staffing_lever_first_look"]

    def track_stay_lever_first_look_seconds(self, timings: dict[str, float]) -> float:
        return timings["stay_lever_first_look"]

    track_cold_seconds.unit = "seconds"
    track_activity_lever_first_look_seconds.unit = "seconds"
    track_beds_lever_first_look_seconds.unit = "seconds"
    track_staffing_lever_first_look_seconds.unit = "seconds"
    track_stay_lever_first_look_seconds.unit = "seconds"
    track_activity_lever_seconds.unit = "seconds"
    track_beds_lever_seconds.unit = "seconds"
    track_beds_again_seconds.unit = "seconds"
    track_staffing_lever_seconds.unit = "seconds"
    track_stay_lever_seconds.unit = "seconds"
    track_contract_lever_seconds.unit = "seconds"
    track_back_to_cached_seconds.unit = "seconds"


COLD_STEPS = ("server", "title", "first_numbers", "whole_run", "opened_to_numbers")
"""What the cold path times, in seconds from the command: the server answering its health check (the page is
opened then), the page's title in the browser, the first figures of who carries the risk, and the whole first
run on the page; and the first figures counted from opening the page in a browser already running (the server
answering and Chromium started: what a finance director with a browser open waits)."""

LAUNCHERS = ("paysim", "streamlit")
"""How the server is started: ``paysim app`` (the README's command: the simulator and its kernels loaded before
it serves) or ``streamlit run app.py`` (everything loaded by the first page)."""


def measure_cold(
    fresh: bool = False, chromium: str = "/usr/bin/chromium", timeout: float = 900.0, launcher: str = "paysim"
) -> dict[str, float]:
    """The cold path a finance director meets: the app's server started on a free port (``launcher``, one of
    :data:`LAUNCHERS`), then headless Chromium opening the page on the default scenario as shipped (200
    replications of the vector engine, a first look at 20).

    ``fresh`` gives numba an empty on-disk cache (``NUMBA_CACHE_DIR``), as on a fresh install, so its kernels
    compile (before serving with ``paysim app``; in the background from the first page with ``streamlit run``);
    otherwise they load from the cache the last run left."""
    import os
    import socket
    import subprocess
    import sys
    import tempfile
    import urllib.request

    from playwright.sync_api import sync_playwright

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PAYSIM_SCENARIOS"}
    cache = tempfile.TemporaryDirectory(prefix="paysim-numba-") if fresh else None
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache.name
    if launcher == "paysim":
        command = [sys.executable, "-m", "paysim", "app", "--headless", "--port", str(port), "--address", "127.0.0.1"]
    elif launcher == "streamlit":
        command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true"]
        command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    else:
        raise ValueError(f"launcher {launcher!r}: expected one of {', '.join(LAUNCHERS)}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=APP.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        break
            except OSError:
                time.sleep(0.1)
            if time.perf_counter() - started > timeout:
                raise RuntimeError("streamlit did not answer its health check")
        timings["server"] = time.perf_counter() - started
        with sync_playwright() as api:
            browser = api.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            opened = time.perf_counter()  # the browser is up: from here is what a user with a browser open waits
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name="Who carries the risk?").wait_for(timeout=timeout * 1000)
            timings["title"] = time.perf_counter() - started
            page.get_by_role("heading", name="Who carries the risk", exact=True).wait_for(timeout=timeout * 1000)
            timings["first_numbers"] = time.perf_counter() - started
            page.get_by_text("(a first look:").wait_for(state="detached", timeout=timeout * 1000)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout * 1000)
            timings["whole_run"] = time.perf_counter() - started
            browser.close()
        timings["opened_to_numbers"] = timings["first_numbers"] - (opened - started)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if cache is not None:
            cache.cleanup()
    return timings


class AppColdStart:
    """asv: seconds from ``paysim app`` to the page's title and to its first figures, and from opening the page to
    its first figures, numba's cache warm."""

    timeout = 1800
    number = 1
    repeat = 1

    def setup_cache(self) -> dict[str, float]:
        return measure_cold(fresh=False)

    def track_title_seconds(self, timings: dict[str, float]) -> float:
        return timings["title"]

    def track_first_numbers_seconds(self, timings: dict[str, float]) -> float:
        return timings["first_numbers"]

    def track_opened_to_numbers_seconds(self, timings: dict[str, float]) -> float:
        return timings["opened_to_numbers"]

    track_title_seconds.unit = "seconds"
    track_first_numbers_seconds.unit = "seconds"
    track_opened_to_numbers_seconds.unit = "seconds"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="replications (default 1000)")
    parser.add_argument("--years", type=int, default=5, help="contract years (default 5)")
    parser.add_argument("--engine", default="vector", help="engine (default vector)")
    parser.add_argument("--cold", action="store_true", help="time the cold path instead: a new server and a browser")
    parser.add_argument("--repeat", type=int, default=3, help="cold starts per launcher, numba's cache warm (3)")
    parser.add_argument("--fresh", action="store_true", help="also once per launcher with numba's cache empty")
    args = parser.parse_args()
    if args.cold:
        import statistics

        print("cold start, default scenario as shipped; seconds (median of the runs, each run in brackets)")
        print(f"  {'':<34} " + " ".join(f"{step:>18}" for step in COLD_STEPS))
        for launcher in LAUNCHERS:
            name = "paysim app" if launcher == "paysim" else "streamlit run"
            sets = [("numba cache warm", [measure_cold(False, launcher=launcher) for _ in range(args.repeat)])]
            if args.fresh:
                sets.append(("numba cache empty", [measure_cold(True, launcher=launcher)]))
            for label, measured in sets:
                cells = []
                for step in COLD_STEPS:
                    values = [run[step] for run in measured]
                    cells.append(f"{statistics.median(values):6.2f} [{' '.join(f'{v:.1f}' for v in values)}]")
                print(f"  {name} ({label}):".ljust(37) + " ".join(f"{c:>18}" for c in cells))
        return
    timings = measure_reruns(args.reps, args.years, args.engine)
    print(f"app reruns, default scenario, {args.reps:,} replications x {args.years} years, engine {args.engine}")
    print(f"  {'':<16} {'first look':>10} {'whole run':>10}")
    for name, seconds in timings.items():
        if not name.endswith("_first_look"):
            print(f"  {name:<16} {timings[f'{name}_first_look']:8.2f} s {seconds:8.2f} s")
    from paysim.app_support.runs import LINES

    print(f"  line cache       {LINES.nbytes / 2**20:8.0f} MiB in {len(LINES)} entries")


if __name__ == "__main__":
    main()
