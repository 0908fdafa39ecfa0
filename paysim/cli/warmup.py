"""``paysim warm-up``: compile the numba kernels once, after installing, so no run waits for a compile."""

from __future__ import annotations

import time

import typer

from paysim.cli.app import app
from paysim.engines.warm import compile_kernels


@app.command(name="warm-up")
def warm_up() -> None:
    """Compile the numba kernels (or load them from numba's disk cache) so that runs start at once.

    Run once after installing or upgrading paysim; it takes under a minute the first time and about a second
    after that. Results never depend on it.
    """
    started = time.perf_counter()
    steps = compile_kernels(say=typer.echo)
    if steps:
        typer.echo(f"ready: {time.perf_counter() - started:.1f} s")
