"""Signals (issue 19, item 3): SIGINT and SIGTERM at any phase of a real run end it with one line and exit status
128 + the signal's number, no traceback, no hang, no worker left running, no temporary file left anywhere.

Each case runs ``paysim run`` in a subprocess through a small driver that sends the signal to itself (or, as a
terminal's Ctrl-C does, to its whole process group) at the moment a phase is reached: start-up (before the
commands are imported), simulating (the first chunk received), pricing (the first chunk priced, with the
monthly file open and chunks spilled to TMPDIR), writing (the finished --out file being flushed). Start-up is also
hit from outside, by timing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from paysim.runs.interrupts import Interrupted, exit_status, message

ROOT = Path(__file__).resolve().parent.parent

DRIVER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path


    def children():
        found = []
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            found += (task / "children").read_text().split()
        return found


    def fire(how, record, reached):
        record.write_text(" ".join(children()) + "\\n" + reached)
        if how == "INT":  # a terminal's Ctrl-C reaches the whole process group, workers included
            os.killpg(os.getpgid(0), signal.SIGINT)
        else:
            os.kill(os.getpid(), {"TERM": signal.SIGTERM, "KILL": signal.SIGKILL}[how])


    def once(function, how, record, reached):
        def hooked(*args, **kwargs):
            if not record.exists():
                fire(how, record, reached(*args) if callable(reached) else reached)
            return function(*args, **kwargs)

        return hooked


    def hook(phase, how, record):
        import paysim.runs.interrupts

        if phase == "startup":
            real = paysim.runs.interrupts.install

            def install():
                real()
                fire(how, record, "startup")  # handlers in place, nothing of the commands imported yet

            paysim.runs.interrupts.install = install
            return
        import paysim.runs.batch
        import paysim.runs.io

        paysim.runs.batch.MEMORY_BUDGET = 1  # every chunk spills to TMPDIR
        if phase == "simulating":
            paysim.runs.batch.ChunkStore.put = once(paysim.runs.batch.ChunkStore.put, how, record, "simulating")
        elif phase == "pricing":
            spill = Path(os.environ["TMPDIR"])
            spilled = lambda *a: f"pricing, {len(list(spill.rglob('*')))} spilled"  # noqa: E731
            paysim.runs.batch._price = once(paysim.runs.batch._price, how, record, spilled)
        elif phase == "writing":
            real_fsync, folder = os.fsync, Path(sys.argv[-1]).parent

            def fsync(fd):  # a file is complete, about to be renamed into place
                if not record.exists() and any(p.name.endswith(".tmp") for p in folder.iterdir()):
                    fire(how, record, "writing")
                return real_fsync(fd)

            paysim.runs.io.os.fsync = fsync


    if __name__ == "__main__":  # worker processes import this file too (spawn)
        import faulthandler

        faulthandler.dump_traceback_later(60, exit=True)  # a hang shows where it hangs, then ends
        phase, how, record = sys.argv[1], sys.argv[2], Path(sys.argv[3])
        sys.argv = ["paysim", *sys.argv[4:]]
        hook(phase, how, record)
        from paysim.__main__ import main

        main()
    """
)


def _alive(pid: str) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "State:\tZ" not in status


def _as_a_terminal_starts_it() -> None:
    """Ctrl-C acts in the command: a suite started in the background (``cmd &``) ignores SIGINT, and a child
    inherits that, as paysim rightly keeps (:func:`paysim.runs.interrupts.install`)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(tmp_path: Path, phase: str, how: str, workers: int = 1, timeout: float = 120) -> dict:
    """Run the driver; return its exit status, stderr, what it recorded and what is left in the output folder
    and TMPDIR."""
    driver, record = tmp_path / "driver.py", tmp_path / "record.txt"
    out, spill = tmp_path / "out", tmp_path / "spill"
    out.mkdir()
    spill.mkdir()
    driver.write_text(DRIVER)
    args = ["run", "default", "--engine", "vector", "--reps", "40", "--workers", str(workers)]
    args += ["--monthly", str(out / "m.csv"), "--out", str(out / "r.csv")]
    env = {**os.environ, "TMPDIR": str(spill), "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(driver), phase, how, str(record), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        start_new_session=True,  # its own process group, as a terminal gives a command
        preexec_fn=_as_a_terminal_starts_it,
    )
    took = time.perf_counter() - started
    children, _, reached = record.read_text().partition("\n") if record.exists() else ("", "", "")
    time.sleep(0.5)
    return {
        "status": done.returncode,
        "stderr": done.stderr,
        "reached": reached,
        "workers": children.split(),
        "left": sorted(str(p.relative_to(tmp_path)) for p in [*out.rglob("*"), *spill.rglob("*")]),
        "alive": [pid for pid in children.split() if _alive(pid)],
        "seconds": took,
    }


def assert_clean_stop(result: dict, how: str, phase: str) -> None:
    signum = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}[how]
    assert result["reached"].startswith(phase), result
    assert result["status"] == 128 + signum, result
    what = "Ctrl-C (SIGINT)" if how == "INT" else "SIGTERM"
    assert result["stderr"] == f"paysim: stopped by {what}; nothing was written, and no temporary file is left\n"
    assert result["left"] == [], result
    assert result["alive"] == [], result


CASES = [("startup", "TERM"), ("simulating", "TERM"), ("pricing", "TERM"), ("writing", "TERM"), ("pricing", "INT")]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")
@pytest.mark.parametrize(("phase", "how"), CASES, ids=[f"{phase}-{how}" for phase, how in CASES])
def test_a_signal_at_any_phase_stops_a_run_cleanly(tmp_path, phase, how):
    result = interrupt(tmp_path, phase, how)
    assert_clean_stop(result, how, phase)
    if phase == "pricing":  # the clean-up had something to clean: chunks spilled to TMPDIR
        assert int(result["reached"].split(", ")[1].split()[0]) > 0, result


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")
@pytest.mark.parametrize("how", ["INT", "TERM"])
@pytest.mark.parametrize("phase", ["simulating", "pricing", "writing"])
def test_a_signal_with_workers_stops_them_too(tmp_path, phase, how):
    result = interrupt(tmp_path, phase, how, workers=2)
    assert_clean_stop(result, how, phase)
    if phase == "simulating":
        assert result["workers"], "the pool's workers were running when the signal came"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")
def test_workers_exit_when_their_parent_is_killed(tmp_path):
    result = interrupt(tmp_path, "simulating", "KILL", workers=2)
    assert result["status"] == -signal.SIGKILL and result["workers"], result
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in result["workers"]):
        time.sleep(0.2)
    assert not [pid for pid in result["workers"] if _alive(pid)]


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.0])
def test_a_signal_during_start_up_from_outside(tmp_path, delay):
    out = tmp_path / "r.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "paysim", "run", "default", "--engine", "vector", "--reps", "40", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    if process.returncode == -signal.SIGTERM:  # so early that Python had not started paysim: the default action
        assert stderr == ""
        return
    assert process.returncode == 143, stderr
    assert stderr == "paysim: stopped by SIGTERM; nothing was written, and no temporary file is left\n"
    assert list(tmp_path.iterdir()) == []


def test_the_message_and_status_of_a_stopped_command():
    assert exit_status(signal.SIGINT) == 130 and exit_status(signal.SIGTERM) == 143
    stop = Interrupted(signal.SIGINT)
    assert message(stop) == "paysim: stopped by Ctrl-C (SIGINT); nothing was written, and no temporary file is left"
    assert message(Interrupted(signal.SIGTERM), ("m.csv",)) == (
        "paysim: stopped by SIGTERM; wrote only m.csv before, and no temporary file is left"
    )
    assert not isinstance(stop, Exception)  # `except Exception` on the way out does not swallow it


LEAVER = textwrap.dedent(
    """
    import multiprocessing, os, sys
    from paysim.runs import interrupts

    context = multiprocessing.get_context("spawn")
    held = context.Lock(), context.Queue()  # a process pool's queues hold such semaphores
    if sys.argv[1] == "release":
        interrupts.release_process_resources()
    os._exit(130)  # how paysim/__main__.py ends when a stopped pool's thread is still running
    """
)


@pytest.mark.parametrize("release", [True, False])
def test_a_hard_exit_after_a_stop_leaves_no_semaphore_for_the_tracker_to_warn_of(tmp_path, release):
    """The command's stderr after a stop is its one line: multiprocessing's resource tracker, a process of its own
    sharing that stderr, warns of every semaphore a hard exit left registered. Without the release it does (so
    this test can tell)."""
    script = tmp_path / "leaver.py"
    script.write_text(LEAVER)
    done = subprocess.run(
        [sys.executable, str(script), "release" if release else "keep"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 130
    if release:
        assert done.stderr == ""
    else:
        assert "leaked semaphore" in done.stderr
