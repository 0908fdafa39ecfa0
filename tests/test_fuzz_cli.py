"""Fuzzing the command line (issue 19, item 4): hypothesis generates scenario files and command lines --
structure, types, magnitudes, YAML aliases, encodings, file names -- and every case must end with exit status 0,
1 or 2, never a traceback, within a time bound, and leave no file behind when it fails.

The profile is fixed (derandomized, no example database) so CI runs the same 600 cases every time: 350 scenario
files through ``paysim validate`` and ``paysim run``, 250 command lines on a small valid scenario. The CLI runs
in this process (Typer's runner), which keeps each case to milliseconds; a case that runs past
:data:`BOUND_SECONDS` is stopped by an alarm and fails.
"""

from __future__ import annotations

import contextlib
import copy
import signal
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import inpatient_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from paysim.cli import app

runner = CliRunner()

BOUND_SECONDS = 30
"""Longest a single case may take (the slowest valid case here takes about a second)."""

WARD = inpatient_only(beds=10, admissions_per_year=100, los={"dist": "exponential", "mean": 20})
BASE: dict[str, Any] = {
    **WARD.model_dump(mode="json", exclude_none=True),
    "contracts": {"block": {"annual_value": 5e6}},
    "uncertain": {"parameters": {"services.inpatient.beds": [9, 11]}},
}
"""A small scenario with a contract and an uncertain block, whose every key the fuzzing may change."""


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from _leaves(value, (*path, position))
    if path:
        yield path


PATHS = sorted(set(_leaves(BASE)), key=str)

SPECIAL_TEXT = ["", " ", "1e12", "true", "yes", "~", ".inf", "-.nan", "0x1F", "1_000", "2024-01-01", "12:30"]
SPECIAL_TEXT += ["!!python/object:os.system", "*x", "&x 1", "{a: 1", "[1, 2", "'", "\u202e", "\x00", "é", "😀" * 3]
VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.sampled_from([0, 1, -1, 10**19, 2**63, 5000, 5001]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([1e-300, 1e300, -0.0, 0.5, 3650.0, 3650.000001]),
        st.text(max_size=12),
        st.sampled_from(SPECIAL_TEXT),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(string.ascii_lowercase + "._", max_size=8), inner, max_size=3),
    ),
    max_leaves=8,
)
"""Any YAML value: every type, huge and tiny and special numbers, odd text, nested lists and mappings."""


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """The base scenario with one to four keys set to any value, deleted, renamed or shared (an alias)."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = data
        for part in path[:-1]:
            if not isinstance(parent, dict | list):
                break
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                break
        else:
            last = path[-1]
            action = draw(st.sampled_from(["set", "set", "delete", "rename", "share"]))
            with contextlib.suppress(KeyError, IndexError, TypeError):
                if action == "set":
                    parent[last] = draw(VALUES)
                elif action == "delete":
                    del parent[last]
                elif action == "rename" and isinstance(parent, dict):
                    parent[draw(st.text(string.ascii_letters + "_", min_size=1, max_size=10))] = parent.pop(last)
                elif action == "share":  # the same object twice: yaml.dump writes an anchor and an alias
                    parent[last] = data["services"]
    return data


@st.composite
def scenario_files(draw: st.DrawFn) -> bytes:
    """A scenario as bytes: dumped, then perhaps changed as text (a line repeated -- a key given twice --, cut
    short, indented, a laughing anchor nest appended), then encoded (UTF-8, with a BOM, UTF-16, Latin-1, bytes)."""
    data = draw(scenarios())
    try:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans()))
    except (yaml.YAMLError, ValueError):
        text = "name: x\n"
    lines = text.splitlines(keepends=True)
    edit = draw(st.sampled_from(["none", "none", "repeat", "cut", "indent", "laughs", "tab", "document"]))
    if edit == "repeat" and lines:
        at = draw(st.integers(0, len(lines) - 1))
        lines.insert(at, lines[at])
    elif edit == "cut":
        text = text[: draw(st.integers(0, len(text)))]
        lines = [text]
    elif edit == "indent" and lines:
        at = draw(st.integers(0, len(lines) - 1))
        lines[at] = " " * draw(st.integers(1, 3)) + lines[at]
    elif edit == "laughs":
        depth, width = draw(st.integers(2, 9)), draw(st.integers(2, 12))
        nest = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
        nest += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
        lines.append("\n".join(nest) + "\n")
    elif edit == "tab" and lines:
        lines[0] = "\t" + lines[0]
    elif edit == "document":
        lines.append("---\nname: second\n")
    text = "".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "bytes"]))
    if encoding == "bytes":
        raw = text.encode("utf-8")
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    return text.encode(encoding, errors="replace")


FILE_NAMES = st.one_of(
    st.just("scenario.yaml"),
    st.text(string.ascii_letters + string.digits + " -_.é😀", min_size=1, max_size=40).map(lambda s: s + ".yaml"),
    st.integers(200, 300).map(lambda n: "s" * n + ".yaml"),  # around the system's 255-byte limit
)


@contextlib.contextmanager
def bounded(seconds: int) -> Iterator[None]:
    """Fail a case that runs past ``seconds`` (an alarm in the main thread), rather than hang the suite."""

    def overrun(_signum: int, _frame: Any) -> None:
        raise AssertionError(f"a case ran past {seconds} s")

    before = signal.signal(signal.SIGALRM, overrun)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


def check(args: list[str], out_folder: Path | None = None) -> None:
    """Run the command; assert a clean end (0, 1 or 2 and no traceback) and, when it failed, nothing written."""
    with bounded(BOUND_SECONDS):
        result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    assert "Traceback" not in result.output, (args, result.output)
    if result.exit_code != 0:
        usage = result.stderr.startswith("Usage: ") and "\nError: " in result.stderr  # click's own, for the syntax
        assert result.stderr.startswith("paysim: ") or usage, (args, result.stderr)
        assert len(result.stderr) < 20_000, (args, len(result.stderr))  # one message, not an expanded value
        if out_folder is not None:
            assert list(out_folder.iterdir()) == [], (args, result.stderr)
    elif out_folder is not None:  # a success leaves the files asked for, and no temporary file
        assert not [p for p in out_folder.iterdir() if p.name.endswith(".tmp")]


needs_alarm = pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="the time bound uses SIGALRM")
FUZZ = settings(
    max_examples=350,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


@needs_alarm
@FUZZ
@given(raw=scenario_files(), name=FILE_NAMES, command=st.sampled_from(["validate", "validate", "run"]))
def test_any_scenario_file_ends_cleanly(tmp_path_factory, raw, name, command):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / name
    try:
        path.write_bytes(raw)
    except OSError:  # a name this system cannot take: the command must say so, too
        pass
    out = folder / "out"
    out.mkdir()
    args = [command, str(path)]
    if command == "run":
        args += ["--reps", "3", "--engine", "vector", "--out", str(out / "r.csv")]
    check(args, out if command == "run" else None)


def _set_values() -> st.SearchStrategy[str]:
    keys = st.one_of(
        st.sampled_from([".".join(map(str, path)) for path in PATHS]),
        st.text(string.ascii_lowercase + "._", max_size=30),
        st.just("services.inpatient.beds"),
    )
    values = st.one_of(
        VALUES.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("\n...")),
        st.sampled_from(SPECIAL_TEXT),
        st.just(
            "{"
            + ", ".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "x"] * 10) + "]" for i in range(9))
            + "}"
        ),
    )
    return st.one_of(st.tuples(keys, values).map(lambda kv: f"{kv[0]}={kv[1]}"), st.text(max_size=20))


NUMBERS = ["0", "-1", "1.5", "abc", "", "1e3", "99999", str(10**19), "1000001", "0x10", "١٢"]


@st.composite
def command_lines(draw: st.DrawFn, scenario: str, out: Path) -> list[str]:
    """A command on a small valid scenario with any options: counts, engines, seeds, --set, output files."""
    command = draw(st.sampled_from(["run", "run", "run", "validate", "compare", "realism"]))
    args = [command, draw(st.sampled_from([scenario, scenario, "default", "no-such-scenario", "", "/dev/null"]))]
    if command == "validate":
        options = ["--set"]
    elif command == "realism":
        options = ["--reps", "--set", "--year"]
    else:
        options = ["--reps", "--workers", "--engine", "--seed", "--set", "--out"]
        options += ["--monthly", "--no-uncertainty"] if command == "run" else ["--change"]
    for option in draw(st.lists(st.sampled_from(options), max_size=5)):
        if option in ("--set", "--change"):
            args += [option, draw(_set_values())]
        elif option in ("--reps", "--year"):
            args += [option, draw(st.one_of(st.sampled_from(NUMBERS), st.integers(1, 12).map(str)))]
        elif option == "--workers":
            args += [option, draw(st.sampled_from([*NUMBERS, "1"]))]
        elif option == "--engine":
            args += [option, draw(st.sampled_from(["auto", "des", "vector", "numba", "", "DES"]))]
        elif option == "--seed":
            args += [option, draw(st.one_of(st.sampled_from(NUMBERS), st.integers(-(2**70), 2**70).map(str)))]
        elif option in ("--out", "--monthly"):
            stem = draw(st.one_of(st.sampled_from(["r", "../r", "sub/r", " ", "r" * 300]), st.text(max_size=10)))
            suffix = draw(st.sampled_from([".csv", ".parquet", ".json", ".xlsx", "", ".CSV"]))
            args += [option, str(out / f"{stem}{suffix}")]
        else:
            args.append(option)
    if command in ("run", "compare", "realism") and "--reps" not in args:
        args += ["--reps", "3"]
    if command == "realism" and args[1] == "default":
        args[1] = scenario  # realism on the default runs 200 replications of the full trust: seconds, not ms
    return args


@needs_alarm
@settings(FUZZ, max_examples=250)
@given(data=st.data())
def test_any_command_line_ends_cleanly(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("cli")
    scenario = folder / "ward.yaml"
    scenario.write_text(WARD.to_yaml(), encoding="utf-8")
    out = folder / "out"
    out.mkdir()
    args = data.draw(command_lines(str(scenario), out))
    if args[0] in ("run", "compare") and args[1] == "default" and "vector" not in args:
        args += ["--engine", "vector"]  # the SimPy model on the full default trust takes 15 s a replication
    check(args, out)


def test_the_base_scenario_runs(tmp_path):
    """A positive control: unchanged, the fuzzed scenario is valid and runs, so refusals above are earned."""
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(BASE, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    result = runner.invoke(app, ["run", str(path), "--reps", "3", "--engine", "vector", "--out", str(out / "r.csv")])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["r.csv"]
