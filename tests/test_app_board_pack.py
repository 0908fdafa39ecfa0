"""The board pack (paysim.analysis.board_pack): its tables by hand, the PDF's two pages and their text, and
``paysim report SCENARIO --out board.pdf`` from the same code."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from paysim.analysis import board_pack
from paysim.cli import app
from tests import money_builders as mb

SMALL = Path(__file__).parent / "data" / "app-small.yaml"
PRICE = 600.0
BLOCK = 1_200_000.0


def block_trust():
    contracts = {"oap_paid_by": "provider", "block": {"annual_value": BLOCK}}
    costs = {
        "pay_inflation": 0.05,
        "beds": {"fixed_per_bed_per_year": 0, "per_occupied_bed_day": 0, "oap_per_bed_day": PRICE},
    }
    return mb.scenario(contracts, costs, years=2)


def oap_days():
    """10, 20 and 30 OAP bed days a month in three replications."""
    return mb.activity(
        {"inpatient.oap_bed_days": np.array([[10.0], [20.0], [30.0]]), "inpatient.local_bed_days": 0.0},
        replications=3,
        months=24,
    )


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_income_and_expenditure_by_financial_year_by_hand():
    tables = board_pack.pack_tables(block_trust(), oap_days(), "hand")
    rows = tables.income_and_expenditure
    assert rows[0] == ["Rule", "£m", "2026/27", "2027/28"]
    lines = {row[1]: row[2:] for row in rows[1:]}
    # Year 1: income 1.2m; cost 12 x 20 x 600 = 144,000 in the median run; surplus 1,056,000.
    assert lines["Income (P50)"][0] == "1.2"
    assert lines["Expenditure (P50)"][0] == "0.1"
    assert lines["Surplus (P50)"][0] == "1.1"
    # Bad year: the 5th percentile of 1,128,000, 1,056,000 and 984,000 is 991,200.
    assert lines["Surplus, bad year"][0] == board_pack.m(np.quantile([1_128_000, 1_056_000, 984_000], 0.05)) == "1.0"
    assert rows[1][0] == "Block"


def test_the_pack_names_who_carries_the_risk_and_the_sources():
    text = (
        "costs:\n  pay_inflation: 0.05   # Agenda for Change 2023/24\n"
        "  beds:\n    oap_per_bed_day: 600  # about 640-690\n"
    )
    tables = board_pack.pack_tables(block_trust(), oap_days(), "hand", source_text=text)
    assert tables.sentences[0].startswith("Under Block the provider carries most of the risk")
    header, provider = tables.risk_matrix[0], tables.risk_matrix[1]
    assert header[2:-1] == [
        "Demand and volume",
        "Cost inflation and pay award",
        "Out-of-area placements",
        "Outcome element",
        "Baseline error",
        "CIP delivery",
    ]
    assert provider[:2] == ["Block", "Provider"]
    sources = {row[0]: row[1:] for row in tables.assumptions[1:]}
    assert sources["Pay award"] == ["5 %", "Agenda for Change 2023/24"]
    assert sources["Out-of-area bed day (£)"] == ["600", "about 640-690"]
    assert sources["Who pays for out-of-area placements"][1] == "not given in the file"


def test_the_pdf_has_two_pages_with_the_board_figures():
    pdf = board_pack.board_pack(block_trust(), oap_days(), "hand")
    assert pdf.startswith(b"%PDF")
    pages = pdf_text(pdf)
    assert len(pages) == 2
    first, second = pages
    for expected in (
        "Who carries the risk: test",
        "Income and expenditure by financial year (£m)",
        "2026/27",
        "2027/28",
        "Surplus, bad year",
        "Who carries which risk",
        "Out-of-area",
    ):
        assert expected in first, expected
    assert "Out-of-area placements" in second and "Assumptions and their sources" in second
    assert "oap_per_bed_day" not in first + second  # labels, not scenario keys


def test_file_sources_follow_the_indentation():
    text = (
        "services:\n  inpatient:\n    beds: 118   # 12 per 100,000\n    los_days: {mean: 33}  # NHS Benchmarking\n"
        "costs:\n  beds:   # a comment on a block\n    oap_per_bed_day: 660  # Grant Thornton\n"
    )
    assert board_pack.file_sources(text) == {
        "services.inpatient.beds": "12 per 100,000",
        "services.inpatient.los_days": "NHS Benchmarking",
        "costs.beds": "a comment on a block",
        "costs.beds.oap_per_bed_day": "Grant Thornton",
    }


def test_paysim_report_writes_the_board_pack(tmp_path):
    out = tmp_path / "board.pdf"
    result = CliRunner().invoke(app, ["report", str(SMALL), "--out", str(out), "--reps", "20", "--engine", "vector"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "board pack" in result.output
    first, second = pdf_text(out.read_bytes())
    assert "Who carries the risk: app-small" in first and "20 runs of 2 financial years from 2026/27" in first
    for rule in ("Block", "Activity", "Blended", "Capitation"):
        assert rule in first
    assert "Mental Health Investment Standard" in second or "Access standards" in second


@pytest.mark.parametrize("option", [["--change", "services.inpatient.beds=9"], ["--measure", "block.provider_surplus"]])
def test_workbook_options_are_refused_for_the_board_pack(tmp_path, option):
    result = CliRunner().invoke(app, ["report", str(SMALL), "--out", str(tmp_path / "b.pdf"), *option])
    assert result.exit_code == 2
    assert "of the workbook only" in result.output
    assert not (tmp_path / "b.pdf").exists()
