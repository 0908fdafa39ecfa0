"""The app in a real browser: ``streamlit run app.py`` headless on a free port, driven by headless Chromium.

Checks what a person sees: the page loads with no exception and answers who carries the risk on one
screen (figures in £m, financial-year labels, the risk matrix, no scenario keys), a slider change updates the
numbers, a bad upload shows its error (naming the key) and removing it keeps the replications, named scenarios
compare side by side, the board pack and the other downloads arrive, and the page prints every tab without the
sidebar. Screenshots of the page are taken every
run, into the folder ``PAYSIM_SCREENSHOTS`` names (``docs/screenshots`` refreshes the README's), else into a
temporary folder, so that running the tests does not change the repository.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/install-browser``), launched through
Playwright's Python package. Without it the test is skipped locally, but fails when ``CI`` is set.
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
SMALL = Path(__file__).parent / "data" / "app-small.yaml"
SCREENSHOTS = Path(os.environ.get("PAYSIM_SCREENSHOTS") or Path(tempfile.gettempdir()) / "paysim-screenshots")
CHROMIUM = Path(os.environ.get("PAYSIM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 90  # seconds for the server to answer its health check
RUN_TIMEOUT = 240_000  # milliseconds for one script run (a cold simulation on a busy machine)
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RAW_KEY = re.compile(r"\b(services|contracts|costs)\.[a-z_]+(\.[a-z_]+)*\b")


def _missing(reason: str) -> None:
    """Skip when a browser is not available here; fail in CI, where it must be."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser test must run: run .ci/install-browser)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_api():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found; install it with .ci/install-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="module")
def browser(playwright_api):
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """``streamlit run app.py`` on a free local port; yields its URL once ``/_stcore/health`` says ok."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    # every run of more than 100 replications (the 200 the vector engine starts with) shows a first look
    env = {**os.environ, "PAYSIM_SCENARIOS": str(SMALL), "PAYSIM_FIRST_LOOK_SECONDS": "0", "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",  # the page must not offer to rerun when a source file changes
        "none",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not become healthy in {START_TIMEOUT} s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


@pytest.fixture
def page(browser, server):
    """A fresh browser session on the app, after its first run has finished."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server, wait_until="domcontentloaded")
    wait_for_results(page)
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def wait_idle(page) -> None:
    page.wait_for_selector(IDLE, timeout=RUN_TIMEOUT)


def wait_for_results(page) -> None:
    """Wait until the four headline figures of every replication are shown and the script is idle (a slow
    run shows a first look at its first replications, then draws the page again)."""
    page.locator('[data-testid="stMetric"]').nth(3).wait_for(state="visible", timeout=RUN_TIMEOUT)
    page.get_by_text("(a first look:").wait_for(state="detached", timeout=RUN_TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)


def click_tab(page, name: str) -> None:
    """Open a tab, once the page shows one tab bar (a rerun briefly shows the old one beside the new)."""
    tab = page.get_by_role("tab", name=name)
    for _ in range(300):
        if tab.count() == 1:
            break
        page.wait_for_timeout(100)
    tab.click()


def assert_no_exception(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


def headline(page) -> list[str]:
    """The four headline figures as text, e.g. ``["£118,035", ...]``."""
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_page_loads_with_the_headline_and_charts(page):
    assert page.get_by_role("heading", name="Who carries the risk?").is_visible()
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert [label.strip() for label in labels] == ["Block", "Activity", "Blended", "Capitation"]
    for value in headline(page):
        assert re.fullmatch(r"-?£\d+\.\dm", value.strip()), value  # £m
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(state="visible")
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 4
    assert page.get_by_text("seed 7").first.is_visible()
    # Who carries the risk, on one screen: a sentence per rule, positions by financial year, the risk matrix.
    assert page.get_by_role("heading", name="Who carries the risk", exact=True).is_visible()
    assert page.get_by_text("Under Block the provider carries most of the risk").is_visible()
    tables = page.locator('[data-testid="stTable"]')
    positions = tables.filter(has_text="2026/27 bad year")
    matrix = tables.filter(has_text="Baseline error")
    assert positions.is_visible() and matrix.is_visible()
    assert "2027/28 expected" in positions.inner_text() and "Commissioner spend" in positions.inner_text()
    for risk in ("Demand and volume", "Cost inflation and pay award", "Out-of-area placements", "CIP delivery"):
        assert risk in matrix.inner_text()
    assert re.search(r"£\d+\.\dm \(\d+ %\)", matrix.inner_text())
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert not RAW_KEY.search(main), RAW_KEY.search(main)  # labels, not scenario keys
    screenshot(page, "main.png")
    page.set_viewport_size({"width": 1440, "height": 1900})
    page.get_by_role("heading", name="Who carries the risk", exact=True).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.locator('[data-testid="stMain"]').screenshot(path=str(SCREENSHOTS / "who-carries-the-risk.png"))
    page.set_viewport_size({"width": 1440, "height": 2200})  # the whole risk tab at once
    risk = page.get_by_role("tabpanel", name="Risk")
    risk.locator('[data-testid="stVegaLiteChart"]').nth(3).wait_for(state="visible")
    page.wait_for_timeout(500)  # let Vega finish drawing after the resize
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    risk.screenshot(path=str(SCREENSHOTS / "risk.png"))


def test_a_slider_change_updates_the_numbers(page):
    page.locator('[data-testid="stRadio"]').filter(has_text="Money in").get_by_text("£000").click()
    page.get_by_text(re.compile(r"^-?£[\d,]+k$")).first.wait_for(state="visible", timeout=RUN_TIMEOUT)
    wait_idle(page)
    before = headline(page)
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Demand growth")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for _ in range(6):  # 3.0 % -> 6.0 % in steps of 0.5
        page.keyboard.press("ArrowRight")
    page.get_by_text("a year from your changes").first.wait_for(state="visible", timeout=RUN_TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)
    assert slider.locator('[data-testid="stSliderThumbValue"]').inner_text().strip() == "6.0"
    assert headline(page) != before
    deltas = page.locator('[data-testid="stMetricDelta"]').all_inner_texts()
    assert len(deltas) == 4 and all("a year from your changes" in d for d in deltas)
    screenshot(page, "demand-growth.png")

    click_tab(page, "What your changes did")
    panel = page.locator('[data-testid="stTabPanel"]').filter(has_text="Your changes against the scenario file")
    panel.locator('[data-testid="stVegaLiteChart"]').first.wait_for(state="visible")
    # the change table on the page's basis (£000, chosen above), its horizon named by financial years
    assert panel.get_by_text("Provider surplus (£000, 2026/27 to 2027/28)").first.is_visible()
    assert panel.locator('[data-testid="stTable"]').filter(has_text=re.compile(r"[+-]£[\d,]+k")).count() >= 1
    panel.scroll_into_view_if_needed()
    screenshot(page, "what-the-changes-did.png")


def test_a_bad_upload_shows_its_error(page):
    bad = SMALL.read_bytes().replace(b"    beds: 8", b"    bedz: 8")
    page.locator('.st-key-upload [data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "my-trust.yaml", "mimeType": "application/x-yaml", "buffer": bad}]
    )
    alert = page.locator('[data-testid="stAlertContainer"]').filter(has_text="services.inpatient.bedz")
    alert.wait_for(state="visible", timeout=RUN_TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)
    text = alert.inner_text()
    assert "my-trust.yaml: services.inpatient.bedz: unknown key; did you mean 'beds'?" in text
    assert "Traceback" not in page.content()
    screenshot(page, "upload-error.png")

    page.locator('[data-testid="stFileChipDeleteBtn"]').first.click()
    alert.wait_for(state="detached", timeout=RUN_TIMEOUT)
    wait_for_results(page)
    # The replications survive the run that stopped on the error (it drew no sidebar widgets).
    reps = page.locator('[data-testid="stSlider"]').filter(has_text="Replications")
    assert reps.locator('[data-testid="stSliderThumbValue"]').inner_text().strip() == "200"
    assert page.get_by_text("200 replications of 2 financial years from 2026/27").first.is_visible()


def test_scenarios_side_by_side(page):
    click_tab(page, "Scenarios side by side")
    panel = page.locator('[data-testid="stTabPanel"]').filter(has_text="Pick two to four scenarios")
    panel.get_by_role("button", name="Compare the scenarios").click()
    table = panel.locator('[data-testid="stTable"]').filter(has_text="Chance of a deficit")
    table.wait_for(state="visible", timeout=RUN_TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)
    text = table.inner_text()
    assert "app-small" in text and "more-beds" in text and "Provider surplus: change from app-small" in text
    assert re.search(r"[+-]?£\d+\.\dm \([+-]?£\d+\.\dm to [+-]?£\d+\.\dm\)", text), text
    page.set_viewport_size({"width": 1440, "height": 1600})
    page.wait_for_timeout(300)
    panel.screenshot(path=str(SCREENSHOTS / "side-by-side.png"))


def test_the_board_pack_downloads_and_the_page_prints(page):
    from pypdf import PdfReader

    with page.expect_download(timeout=RUN_TIMEOUT) as info:
        page.get_by_role("button", name="Board pack (PDF)").click()
    assert info.value.suggested_filename == "app-small-board-pack.pdf"
    reader = PdfReader(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert len(reader.pages) == 2
    first = reader.pages[0].extract_text()
    assert "Who carries the risk: app-small" in first and "2026/27" in first and "Surplus, bad year" in first
    assert "Assumptions and their sources" in reader.pages[1].extract_text()

    page.emulate_media(media="print")
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    spend = page.locator('[data-testid="stTabPanel"]').filter(has_text="What the commissioner pays each year")
    assert spend.is_visible()  # every tab prints, not only the one open
    page.emulate_media(media="screen")


def test_downloads_arrive(page):
    with page.expect_download(timeout=RUN_TIMEOUT) as info:
        page.get_by_role("button", name="Results (CSV)").click()
    download = info.value
    assert download.suggested_filename == "app-small-results.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert rows and "replication" in rows[0] and "blended.provider_surplus" in rows[0]

    with page.expect_download(timeout=RUN_TIMEOUT) as info:
        page.get_by_role("button", name="Workbook (Excel)").click()
    workbook = Path(info.value.path()).read_bytes()
    assert workbook[:2] == b"PK"  # an .xlsx is a zip file

    with page.expect_download(timeout=RUN_TIMEOUT) as info:
        page.get_by_role("button", name="Download the edited scenario (YAML)").click()
    assert "name: app-small" in Path(info.value.path()).read_text()


def with_uncertainty() -> bytes:
    """The small scenario with an ``uncertain:`` block: two parameters that change the patients, two money."""
    import yaml

    data = yaml.safe_load(SMALL.read_text())
    data["name"] = "app-small-uncertain"
    data["uncertain"] = {
        "parameters": {
            "services.inpatient.los_days.mean": {"dist": "pert", "low": 25, "mode": 30, "high": 40},
            "services.inpatient.admissions_per_year": [50, 70],
            "costs.beds.oap_per_bed_day": [580, 660],
            "contracts.blended.variable.rate_above": [0.3, 0.7],
        }
    }
    return yaml.safe_dump(data, sort_keys=False).encode()


def test_sensitivity_and_contract_design_tabs(page):
    page.locator('.st-key-upload [data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "uncertain.yaml", "mimeType": "application/x-yaml", "buffer": with_uncertainty()}]
    )
    page.get_by_text("app-small-uncertain").first.wait_for(state="visible", timeout=RUN_TIMEOUT)
    wait_for_results(page)
    page.set_viewport_size({"width": 1440, "height": 2600})  # each tab panel whole, without scrolling

    click_tab(page, "Sensitivity")
    panel = page.locator('[data-testid="stTabPanel"]').filter(has_text="Which uncertain assumptions")
    panel.get_by_role("button", name="Run the tornado").click()
    panel.get_by_text("Mean at central values").wait_for(state="visible", timeout=RUN_TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)
    panel.locator('[data-testid="stVegaLiteChart"]').first.wait_for(state="visible")
    panel.locator('[data-testid="stTable"]').first.wait_for(state="visible")  # drawn whole, not a scrolling box
    assert panel.locator('[data-testid="stDataFrame"]').count() == 0
    assert panel.get_by_role("button", name="Tornado table (CSV)").is_enabled()

    panel.get_by_role("button", name="Run the Sobol analysis").click()
    panel.get_by_text("Sobol indices of the mean").wait_for(state="visible", timeout=RUN_TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)
    assert panel.locator('[data-testid="stVegaLiteChart"]').count() == 2
    page.mouse.move(0, 0)  # no help tooltip over the picture
    page.wait_for_timeout(500)  # let Vega finish drawing
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SCREENSHOTS / "sensitivity.png"))

    click_tab(page, "Contract design")
    panel = page.locator('[data-testid="stTabPanel"]').filter(has_text="Which contract term meets a goal")
    panel.get_by_role("button", name="Find the value").click()
    answer = panel.locator('[data-testid="stMetricValue"]')
    answer.wait_for(state="visible", timeout=RUN_TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)
    assert re.fullmatch(r"£\d+\.\dm a year", answer.inner_text().strip()), answer.inner_text()  # the page's £m
    assert panel.get_by_text("95 % interval (bootstrap over").is_visible()
    panel.locator('[data-testid="stVegaLiteChart"]').first.wait_for(state="visible")
    panel.locator('[data-testid="stTable"]').first.wait_for(state="visible")
    assert panel.locator('[data-testid="stDataFrame"]').count() == 0
    page.mouse.move(0, 0)
    page.wait_for_timeout(500)
    panel.screenshot(path=str(SCREENSHOTS / "design.png"))
