"""``python -m paysim`` and the ``paysim`` command.

The signal handlers (:mod:`paysim.runs.interrupts`) are installed before the command's modules are imported, so a
Ctrl-C or SIGTERM during the seconds of start-up ends the command as cleanly as one during a run.
"""

import contextlib
import importlib
import os
import sys

from paysim.runs import interrupts


def main() -> None:
    """Entry point of the ``paysim`` console script: the Typer app, with SIGINT, SIGTERM and SIGHUP ending it
    with one line and exit status 128 + the signal's number (:mod:`paysim.runs.interrupts`)."""
    try:
        interrupts.install()
        # imported after install(), by name: importing the commands (NumPy, numba, pydantic) takes seconds, and
        # the start-up path is the one place paysim defers an import of its own (as paysim/__init__.py's
        # __getattr__ does, by name); paysim.cli registers every command on its app
        importlib.import_module("paysim.cli").app()
    except interrupts.Interrupted as stop:
        written = sys.modules["paysim.runs.io"].written_files() if "paysim.runs.io" in sys.modules else ()
        print(interrupts.message(stop, written), file=sys.stderr)
        status = interrupts.exit_status(stop.signum)
        if interrupts.threads_left():  # e.g. a process pool's own thread, left stuck by the stop
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            interrupts.release_process_resources()  # what the normal exit below would also release
            os._exit(status)  # every clean-up ran on the way here; a normal exit would wait on the thread
        sys.exit(status)


if __name__ == "__main__":
    main()
