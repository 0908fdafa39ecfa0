"""The ``paysim`` command.

::

    paysim run SCENARIO [--engine auto|des|vector] [--reps N] [--seed S] [--workers W] [--scheduler S]
                        [--set KEY=VALUE ...] [--out FILE] [--monthly FILE] [--no-uncertainty]
    paysim validate SCENARIO [--set KEY=VALUE ...]
    paysim scenarios
    paysim schema
    paysim compare BASE [OTHER] [--change KEY=VALUE ...] ...
    paysim sensitivity SCENARIO --measure COLUMN ...
    paysim design SCENARIO --goal GOAL --term KEY ...
    paysim report SCENARIO --out report.xlsx ...
    paysim realism SCENARIO [--reps N] [--year Y] [--markdown]
    paysim calibrate [DATA] --base SCENARIO --out FILE.yaml [--check] [--holdout N] [--start YYYY-MM]
                     [--oap-return FILE [FILE ...] --provider CODE] [--no-seasonality]
    paysim warm-up
    paysim app [--port N] [--address A] [--headless]

``SCENARIO`` is a file or the name of a scenario shipped with paysim (``default``, ``oap-pressure``, ...).
Bad input (an invalid scenario or ``--set``, an unknown engine, ``--reps 0``, an output file type paysim
cannot write, a missing folder, ``--reps`` or ``--workers`` beyond their maxima) stops with exit status 2 and a
message naming the file and key, before anything is simulated or written. A problem of the machine (a full disk,
a worker killed) exits with 1; SIGINT, SIGTERM and SIGHUP with 128 + the signal (130, 143, 129), one line and
nothing half-written (:mod:`paysim.runs.interrupts`).

Modules: :mod:`paysim.cli.app` (the Typer app, shared options, input checks, progress),
:mod:`paysim.cli.display` (tables and number formats), :mod:`paysim.cli.commands` (run, validate, schema,
compare), :mod:`paysim.cli.decide` (sensitivity, design, report), :mod:`paysim.cli.realism` (realism) and
:mod:`paysim.cli.calibrate` (calibrate), :mod:`paysim.cli.warmup` (warm-up), :mod:`paysim.cli.serve` (app).
"""

from paysim.cli import calibrate, commands, decide, realism, serve, warmup  # noqa: F401  (registers the commands on the app)
from paysim.cli.app import app, main

__all__ = ["app", "main"]
