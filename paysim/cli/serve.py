"""``paysim app``: start the app for finance directors with the simulator already loaded.

``streamlit run app.py`` starts a server that imports nothing of the app until the first browser connects: that
first page then waits for the imports (Streamlit, pandas, Altair, scipy, statsmodels and paysim itself, about 2 s)
and for numba to load the compiled kernels from its cache. ``paysim app`` does both in the server's process
*before* it serves, then serves ``app.py`` exactly as ``streamlit run`` does (same script, same options), so the
first page finds everything loaded and shows the default trust's first figures as soon as the first look is
simulated. Results never depend on it.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from pathlib import Path
from typing import Annotated

import typer

import paysim
from paysim.cli.app import EXIT_BAD_INPUT, app

APP_SCRIPT = Path(paysim.__file__).resolve().parent.parent / "app.py"
"""The app's script: ``app.py`` beside the package, as the README's set-up installs it (an editable install)."""

PRELOADED = ("paysim.app_support", "paysim.calibrate")
"""Packages whose every module the app imports on its first page; ``paysim app`` imports them first.
(:mod:`paysim.app_tabs` is left to the page: its session caches are made by Streamlit's runtime, which starts
with the server, and the modules themselves are light.)"""


def preload(say=lambda _: None) -> float:
    """Import every module of :data:`PRELOADED` and load the vector engine's compiled kernels; seconds taken.

    The modules are imported by name (:func:`importlib.import_module`), as the start-up path does: what is
    imported here is decided by the packages' contents, and importing them is the point, while the CLI's other
    commands never pay for it (Streamlit and Altair among them)."""
    started = time.perf_counter()
    for name in PRELOADED:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            importlib.import_module(module.name)
    say(f"simulator loaded: {time.perf_counter() - started:.1f} s")
    importlib.import_module("paysim.app_support.warm").warm_up_engine("vector")
    seconds = time.perf_counter() - started
    say(f"compiled kernels loaded: {seconds:.1f} s")
    return seconds


@app.command(name="app")
def serve(
    port: Annotated[int, typer.Option(help="Port to serve the app on.", min=1, max=65535)] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only; 0.0.0.0: the network).")
    ] = "127.0.0.1",
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = False,
) -> None:
    """Start the app (who carries the risk, for finance directors) with the simulator and its compiled kernels
    loaded first, so the first page shows figures within seconds; then open http://localhost:PORT."""
    if not APP_SCRIPT.is_file():
        typer.echo(
            f"paysim app: the app's script {APP_SCRIPT} is not there; the app runs from a source checkout "
            "installed with the README's set-up (pip install -e '.[dev]')",
            err=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    preload(say=typer.echo)
    options = {
        "server.port": port,
        "server.address": address,
        "server.headless": headless,
        "browser.gatherUsageStats": False,
    }
    shown = {key: str(value).lower() if isinstance(value, bool) else value for key, value in options.items()}
    arguments = ["run", str(APP_SCRIPT), *(f"--{key}={value}" for key, value in shown.items())]
    importlib.import_module("streamlit.web.cli").main(arguments, prog_name="streamlit")
