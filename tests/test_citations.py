"""Every citation resolves (issue 19, item 5): the files the scenarios, the README and the code cite are in the
repository (the sourced figures are ``docs/sources.md``, not a file outside it), and a citation of a section,
``(docs/sources.md, Block)``, names a section or a bold term of that file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "sources.md"
CITING = sorted([*ROOT.glob("scenarios/*.yaml"), ROOT / "README.md", *ROOT.glob("paysim/**/*.py")])
"""Files whose citations must resolve."""

MARKDOWN_FILE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[A-Z][\w-]*\.md|docs/[\w/.-]+\.md)\b")
"""A Markdown file named in text: ``DOMAIN.md``, ``docs/sources.md``, ``CHANGELOG.md``."""
SECTION = re.compile(r"docs/sources\.md, ([A-Z][\w /-]*?)[)\];,]")


def _cited(path: Path) -> list[str]:
    return MARKDOWN_FILE.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", CITING, ids=[str(p.relative_to(ROOT)) for p in CITING])
def test_every_markdown_file_cited_is_in_the_repository(path):
    missing = sorted(
        {name for name in _cited(path) if not (ROOT / name).exists() and not (path.parent / name).exists()}
    )
    assert not missing, f"{path.relative_to(ROOT)} cites files the repository does not have: {missing}"


def test_every_section_cited_is_in_the_sources():
    text = SOURCES.read_text(encoding="utf-8")
    headings = {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}
    terms = set(re.findall(r"\*\*([^*]+?)\.?\*\*", text))
    cited = [
        (path.relative_to(ROOT), section.strip())
        for path in CITING
        for section in SECTION.findall(path.read_text(encoding="utf-8"))
    ]
    assert cited, "no section citations found: the pattern is stale"
    for where, section in cited:
        known = any(section in heading for heading in headings) or any(term.startswith(section) for term in terms)
        assert known, f"{where} cites docs/sources.md, {section}: no such section or term"


def test_the_scenarios_cite_the_sources_file():
    default = (ROOT / "scenarios" / "default.yaml").read_text(encoding="utf-8")
    assert "docs/sources.md" in default
    citing = [p.name for p in ROOT.glob("scenarios/*.yaml") if "docs/sources.md" in p.read_text(encoding="utf-8")]
    assert len(citing) >= 10, citing


def test_the_pattern_finds_a_stray_citation(tmp_path):
    stray = tmp_path / "x.yaml"
    stray.write_text("beds: 118  # NHS Benchmarking (DOMAIN.md, docs/sources.md, Block)\n", encoding="utf-8")
    assert _cited(stray) == ["DOMAIN.md", "docs/sources.md"]
    assert SECTION.findall(stray.read_text()) == ["Block"]
