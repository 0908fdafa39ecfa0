"""Stream names are declared once (paysim.model.streams, each line's streams in paysim.model.lines): the engines
draw only from declared streams, a misspelt one raises, and no engine spells a stream name out by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import paysim.engines._chunk_rows as chunk_rows
import paysim.engines._referrals as referrals
import paysim.engines.des as des
import paysim.engines.initial as initial
import paysim.engines.vector as vector
from paysim.model import streams as st
from paysim.model.lines import SERVICE_LINES, line_stream
from paysim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_line_stream_names_a_declared_stream() -> None:
    assert line_stream("community", st.ARRIVALS) == "community.arrivals"
    assert line_stream("crisis", st.LOS) == "crisis.los"


def test_line_stream_refuses_a_part_the_line_does_not_declare() -> None:
    with pytest.raises(ValueError, match=r"line 'crisis' has no stream 'dropout'; its streams are arrivals"):
        line_stream("crisis", st.DROPOUT)
    with pytest.raises(ValueError, match="unknown service line 'wards'"):
        line_stream("wards", st.LOS)


DRAWING = {"des": (des, initial), "vector": (chunk_rows, referrals, initial)}
"""The modules that create each engine's generators (by ``stream``)."""


def _recorded(monkeypatch: pytest.MonkeyPatch, modules) -> set[str]:
    names: set[str] = set()
    for module in modules:
        real = module.stream

        def recording(seed: int, replication: int, name: str, real=real):
            names.add(name)
            return real(seed, replication, name)

        monkeypatch.setattr(module, "stream", recording)
    return names


@pytest.mark.parametrize("engine", ["des", "vector"])
def test_the_default_trust_draws_only_declared_streams(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml")
    short = scenario.model_copy(update={"years": 1, "warmup_days": 30, "uncertain": None})
    names = _recorded(monkeypatch, DRAWING[engine])
    (des if engine == "des" else vector).run(short, [0])
    declared = {f"{line.name}.{part}" for line in SERVICE_LINES for part in line.streams}
    assert names, "no stream was drawn"
    assert names <= declared, sorted(names - declared)
    # the default trust sets every outcome key, so each line's arrivals and episodes are among the draws
    assert {f"{line.name}.{st.ARRIVALS}" for line in SERVICE_LINES} <= names


def test_no_engine_spells_a_stream_name_out() -> None:
    lines = "|".join(line.name for line in SERVICE_LINES)
    literal = re.compile(rf"[\"'](?:{lines})\.[a-z_]+[\"']|f[\"']\{{\w+\}}\.[a-z_]+[\"']")
    found = []
    for path in ("des.py", "vector.py", "_referrals.py", "_bed_requests.py", "initial.py", "referral_outcomes.py"):
        text = (ROOT / "paysim" / "engines" / path).read_text(encoding="utf-8")
        found += [f"{path}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}" for m in literal.finditer(text)]
    # measure names (community.stepdowns, crisis.admissions) are not streams: allowed where the SimPy model tallies
    allowed = {'"crisis.admissions"', '"community.stepdowns"'}
    assert [f for f in found if f.split(": ", 1)[1] not in allowed] == []
