"""paysim in the browser: who carries which risk under block, activity, blended, capitation and API payment.

Start it with ``streamlit run app.py``. This file sets the page up (title, sidebar, the run) and lists the tabs;
the results are drawn by :mod:`paysim.app_tabs` (one module a tab) and every figure, table and chart comes from
:mod:`paysim.app_support`. Each widget maps onto scenario keys and is validated
like a scenario file (``Scenario.with_overrides``); a session's runs live in ``st.session_state``, and
simulations are cached by the part of the scenario the engine reads, so moving a contract lever only
recomputes the money. A long run is simulated in pieces (:class:`paysim.app_support.PieceRun`): the page is
drawn on the first of them as a first look, then again when the rest are in.
"""

from __future__ import annotations

import streamlit as st

# The page first: its title and what it answers are drawn before anything heavy is imported or simulated.
st.set_page_config(page_title="paysim: who carries the risk?", page_icon=":material/currency_pound:", layout="wide")
st.title("Who carries the risk?")
st.markdown(
    "How the money of a mental-health trust and its commissioner behaves under each way of paying the trust: "
    "**block** (a fixed sum), **activity** (a price per unit), **blended** (a fixed sum on a plan, plus or minus "
    "a marginal rate: the 2019/20 design), **capitation** (a rate per head) and **API**, the aligned payment "
    "and incentive in force for mental health since 2022/23 (a fixed payment on planned activity and cost, with "
    "CQUIN paid in advance and clawed back). Every rule is applied to the *same* simulated patients, so the "
    "differences between them are the payment rules alone. Pick a scenario and move the levers on the left; "
    "money is in £m by financial year."
)
first_paint = st.empty()  # says what is happening while the rest of the page is prepared
# Printing gives the page without the sidebar and buttons, every tab one after another, tables whole.
st.html(
    """<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
  [data-testid="stDownloadButton"], [data-testid="stBaseButton-primary"], [data-testid="stStatusWidget"] {
    display: none !important;
  }
  [data-testid="stTabPanel"] { display: block !important; break-inside: auto; }
  [data-testid="stTable"] table { break-inside: auto; }
  [data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0 1rem !important; }
}
</style>"""
)

import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

with first_paint.container():
    with st.spinner("Loading the simulator..."):
        from paysim import app_support as ui
        from paysim.app_support.warm import WarmUp, start_warm_up
        from paysim.app_tabs import (
            activity,
            changes,
            design,
            mhis,
            oap,
            risk,
            sensitivity,
            side_by_side,
            spend,
            summary,
            surplus,
        )
        from paysim.app_tabs.cached import fit_data, load_file, simulate
        from paysim.app_tabs.page import Page, show_chart
        from paysim.calibrate import DataError
        from paysim.model.scenario import ScenarioError
        from paysim.money.finance import missing_measures
first_paint.empty()


@st.cache_resource(show_spinner=False)
def warm_up() -> WarmUp:
    """The vector engine's kernels, compiling in the background from the server's first page (once a server)."""
    return start_warm_up("vector")


warming = warm_up()


def stop_with(message: str) -> None:
    """Show a problem with the inputs in the page (never a traceback) and stop this run of the script."""
    st.error(message.replace("\n", "  \n"), icon=":material/error:")  # one problem a line
    st.stop()


# --- 1. Scenario ------------------------------------------------------------------------------------------

ui.keep_widget_state(st.session_state)  # before anything can stop this run: see paysim.app_support.state

sidebar = st.sidebar
sidebar.header("Scenario")
choices = ui.scenario_choices()
chosen = sidebar.selectbox(
    "Scenario",
    list(choices),
    key="scenario_name",
    help="Scenarios shipped with paysim (and any named by the PAYSIM_SCENARIOS environment variable).",
)
upload = sidebar.file_uploader(
    "...or upload a scenario file (YAML)",
    type=["yaml", "yml"],
    key="upload",
    help="A paysim scenario file. It is checked like `paysim validate`: problems are shown with the key.",
)
try:
    if upload is not None:
        loaded = ui.read_upload(upload.name, upload.getvalue())
        source_text = upload.getvalue().decode("utf-8", errors="replace")
    elif chosen is not None:
        path = choices[chosen]
        loaded = load_file(str(path), path.stat().st_mtime)
        source_text = path.read_text(encoding="utf-8")
    else:
        stop_with("No scenario files found: upload one, or set PAYSIM_SCENARIOS to a folder of them.")
except ScenarioError as problem:
    stop_with(str(problem))
if upload is not None:
    sidebar.caption(f"Using the uploaded file **{upload.name}**; remove it to go back to the list.")

# Start from your data: a trust's monthly figures fitted to the scenario above; the fitted scenario replaces it.
data_box = sidebar.expander("Start from your data", expanded=False)
data_upload = data_box.file_uploader(
    "Your trust's monthly figures (CSV, Parquet or Excel)",
    type=["csv", "parquet", "xlsx"],
    key="data_upload",
    help="Long (month, measure, value) or wide (month and one column per measure), months YYYY-MM, paysim's "
    "measure names (README: Calibrating to your trust). The scenario above is fitted to it; what the data do "
    "not give keeps the scenario's values.",
)
calibrated: ui.AppCalibration | None = None
if data_upload is not None:
    try:
        with st.spinner("Fitting the scenario to your data and back-testing it..."):
            calibrated = fit_data(data_upload.name, data_upload.getvalue(), loaded.to_yaml())
    except (DataError, ScenarioError) as problem:
        stop_with(str(problem))
    loaded = calibrated.scenario
    data_box.caption(
        f"Using **{loaded.name}**: the scenario fitted to {data_upload.name} "
        f"({calibrated.calibration.data.span()}); remove the file to go back."
    )
if loaded.description:
    sidebar.caption(loaded.description)
with st.expander("How the model works, and the words it uses", expanded=False):
    st.markdown(
        "paysim simulates the patients of the trust month by month: referrals to talking therapies, community "
        "teams and the crisis team, admissions to the adult acute ward, and out-of-area placements when every "
        "local bed is full. Each run has its own random patients; the same patients are then paid for under "
        "every rule."
    )
    st.graphviz_chart(ui.FLOW_DIAGRAM)
    st.table({"Term": list(ui.GLOSSARY), "Meaning": list(ui.GLOSSARY.values())})
if calibrated is not None:
    fit = calibrated.calibration
    with st.expander(f"Fitted to your data: {fit.data.span()}, starting {fit.start}", expanded=True):
        st.markdown(
            f"**{loaded.name}** is the chosen scenario fitted to your figures: the values below replace the "
            "scenario's (rates projected to the month after the data), each with its standard error; everything "
            "else keeps the scenario's values. Every lever and tab now works on it. The chart simulates your "
            "months with the fitted scenario: the bands should hold about 90 % of the observed months."
        )
        st.dataframe(ui.fitted_table(fit), hide_index=True)
        for line in ui.kept_lines(fit):
            st.caption(line)
        check = calibrated.check
        which = f"the last {check.holdout} months, held out of the fit" if check.holdout else "every month"
        st.markdown(
            f"**Back-test** ({check.reps} replications, {which}): {check.overall():.0%} of observed months lie "
            "inside the simulated 90 % band."
        )
        st.dataframe(ui.coverage_table(check), hide_index=True)
        show_chart(ui.backtest_chart(check), width="stretch")
if loaded.uncertain is not None:
    st.info(
        "This scenario gives ranges for some of its assumptions. The app runs it at their central values; "
        "the **Sensitivity** tab shows which of them matter most. To run the ranges themselves (a probabilistic "
        "sensitivity analysis), use `paysim run` on the file.",
        icon=":material/info:",
    )

# Widget keys carry a fingerprint of the scenario, so picking another file starts every lever at its value.
if "reset" not in st.session_state:
    st.session_state["reset"] = 0
prefix = f"{ui.inputs_key(loaded.to_yaml())}-{st.session_state['reset']}"


def lever_widget(lever: ui.Lever, container: Any) -> Any:
    """Draw one lever at its value in the scenario file; return the value shown."""
    label = f"{lever.label} ({lever.unit})" if lever.unit else lever.label
    key = f"{prefix}:{lever.name}"
    value = lever.current(loaded)
    if lever.kind == "choice":
        st.session_state.setdefault(key, value)
        return container.radio(label, lever.options, key=key, help=lever.help, horizontal=True)
    if lever.kind == "number":
        step = lever.step
        st.session_state.setdefault(key, float(value))
        return container.number_input(
            label,
            min_value=float(lever.minimum),
            max_value=float(max(lever.upper(loaded), value)),
            step=float(step),
            format="%.1f" if step < 1 else "%.0f",
            key=key,
            help=lever.help,
        )
    if lever.integer:
        st.session_state.setdefault(key, int(value))
        return container.slider(
            label,
            min_value=int(lever.minimum),
            max_value=int(max(lever.upper(loaded), value)),
            step=int(lever.step),
            key=key,
            help=lever.help,
        )
    st.session_state.setdefault(key, float(value))
    return container.slider(
        label,
        min_value=float(min(lever.minimum, value)),
        max_value=float(max(lever.upper(loaded), value)),
        step=float(lever.step),
        format="%.1f" if lever.step < 1 else "%.0f",
        key=key,
        help=lever.help,
    )


sidebar.header("Levers")
values: dict[str, Any] = {}
applicable = ui.levers_for(loaded)
for section in ui.SECTIONS:
    in_section = [lever for lever in applicable if lever.section == section]
    if in_section:
        box = sidebar.expander(section, expanded=section in (ui.DEMAND, ui.BEDS))
        for lever in in_section:
            values[lever.name] = lever_widget(lever, box)
if sidebar.button("Reset the levers to the scenario file", help="Start every lever again at the file's value."):
    st.session_state["reset"] += 1
    st.rerun()

sidebar.header("Run")
engines = ui.available_engines()
st.session_state.setdefault("engine", engines[0])
engine = st.session_state["engine"] if st.session_state["engine"] in engines else engines[0]
reps_key = f"reps-{engine}"
if reps_key not in st.session_state:  # each engine starts at its own default (200 vector, 10 des)
    st.session_state[reps_key] = ui.default_replications(engine)
reps = sidebar.select_slider(
    "Replications (runs of the same years with different random patients)",
    options=[10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    key=reps_key,
    help="More replications give smoother percentiles and tighter comparisons, and take longer.",
)
last = st.session_state.get("results")
if last is not None and last.seconds > 5 and last.engine == engine:
    per_replication = last.seconds / last.edited.activity.n_replications
    sidebar.caption(
        f"The last run took {last.seconds:.0f} s; fewer replications answer faster "
        f"(100 take about {max(1, round(100 * per_replication))} s)."
    )
st.session_state.setdefault(f"{prefix}:years", loaded.years)
st.session_state.setdefault(f"{prefix}:seed", loaded.seed)
years = sidebar.slider(
    "Years (financial years simulated)", 1, 10, key=f"{prefix}:years", help="How many financial years are counted."
)
advanced = sidebar.expander("Advanced: simulation engine and seed", expanded=False)
engine = advanced.radio(
    "Engine",
    engines,
    key="engine",
    format_func=lambda name: ui.ENGINE_LABELS.get(name, name),
    help="The fast engine simulates every replication at once and gives the same results as the patient-by-patient "
    "one (SimPy, the reference), which takes minutes: use it to check a result, with few replications.",
)
seed = advanced.number_input(
    "Seed",
    min_value=0,
    step=1,
    key=f"{prefix}:seed",
    help="Root of every random stream. The same seed gives the same patients, so results can be reproduced.",
)
engine_estimate = advanced.empty()  # how long a patient-by-patient run would take, once the scenario is known
ui.widgets_drawn(st.session_state)

try:
    file_scenario = loaded.with_overrides(ui.run_settings(years, seed))
    edited = file_scenario.with_overrides(ui.lever_overrides(loaded, values))
except ScenarioError as problem:
    stop_with(str(problem))
unpriceable = missing_measures(edited)
if unpriceable:  # found before anything is simulated
    stop_with("\n".join(f"{edited.name}: {problem}" for problem in unpriceable))
engine_estimate.caption(ui.engine_estimate(edited, reps, engine))

sidebar.download_button(
    "Download the edited scenario (YAML)",
    edited.to_yaml(),
    file_name=f"{edited.name}-edited.yaml",
    mime="application/x-yaml",
    on_click="ignore",
    help="The scenario with your levers applied, ready for `paysim run` or to upload here later.",
)

# --- 2. Run -------------------------------------------------------------------------------------------------

key = ui.inputs_key(file_scenario.to_yaml(), edited.to_yaml(), reps, engine)
controls = st.columns([3, 1])
st.session_state.setdefault("auto", True)
auto = controls[0].toggle(
    "Update the results as I change the inputs",
    key="auto",
    help="Switch off to change several levers first and then press Run.",
)
clicked = controls[1].button("Run", type="primary", disabled=auto, width="stretch")
downloads = st.empty()


def draw_downloads(results: ui.PieceRun | None, moment: str = "shown") -> None:
    """The result downloads; disabled (``results`` None) while a run is in flight or the results are stale.
    ``moment`` tells apart the widget keys of the page's two drawings (before a run and after it)."""
    ready = results is not None
    items: list[tuple[str, str, str, Callable[[], bytes] | bytes]] = [
        ("Board pack (PDF)", "pdf", "application/pdf", b""),
        ("Results (CSV)", "csv", "text/csv", b""),
        ("Results (Parquet)", "parquet", "application/vnd.apache.parquet", b""),
        ("Workbook (Excel)", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b""),
    ]
    if ready:
        run, base = results.edited, results.base
        makers = {
            "pdf": lambda: ui.board_pack_pdf(run, results.engine, source_text),
            "csv": lambda: ui.results_csv(run),
            "parquet": lambda: ui.results_parquet(run),
            "xlsx": lambda: ui.excel_workbook(ui.workbook_sheets(base, run, results.engine, results.seconds)),
        }
        items = [(label, ext, mime, makers[ext]) for label, ext, mime, _ in items]
    with downloads.container():
        columns = st.columns(len(items) + 1)
        name = edited.name
        for column, (label, ext, mime, data) in zip(columns, items, strict=False):
            column.download_button(
                label,
                data,
                file_name=f"{name}-board-pack.pdf" if ext == "pdf" else f"{name}-results.{ext}",
                mime=mime,
                disabled=not ready,
                on_click="ignore",
                key=f"download-{ext}-{'ready' if ready else 'waiting'}-{moment}",
                width="stretch",
            )
        if ready:
            columns[-1].caption(f"The results shown: {results.reps:,} replications.")
        else:
            columns[-1].caption("Downloads open when every replication of the current inputs is in.")


def cancel_run() -> None:
    """Stop following the inputs, so the rerun the click starts does not simulate them again."""
    st.session_state["auto"] = False
    st.session_state["cancelled"] = True


if clicked or auto:
    st.session_state["cancelled"] = False
if st.session_state.get("cancelled"):
    st.info("The run was cancelled. Press **Run** to simulate the current inputs.", icon=":material/stop_circle:")

if auto or clicked:
    last = st.session_state.get("results")
    if last is None or last.key != key:
        draw_downloads(None, "running")
        cancel = st.empty()
        cancel.button("Cancel the run", on_click=cancel_run, key="cancel-first", help="Stops after the piece in hand.")
        page_run = ui.PieceRun.start(key, engine, file_scenario, edited, reps)
        running = f"Simulating {reps:,} replications of {ui.horizon_text(edited)}..."
        if engine == "vector" and not warming.done:
            running = (
                f"{running} The fast engine's kernels are still loading: the first start after an install "
                "compiles them once (about a minute on two cores; later starts take a second)."
            )
        with st.spinner(running, show_time=True):
            try:
                page_run.simulate_first_look(simulate)
                page_run.price()
            except (ScenarioError, ValueError) as problem:
                stop_with(f"The scenario cannot be run: {problem}")
        cancel.empty()
        st.session_state["results"] = page_run

results: ui.PieceRun | None = st.session_state.get("results")
if results is None:
    draw_downloads(None)
    st.info("Press **Run** to simulate the scenario.")
    st.stop()
fresh = results.key == key
draw_downloads(results if fresh and results.complete else None)
following = st.empty()  # the progress of the rest of a run whose first look is shown
if not fresh:
    st.warning("The results below are for earlier inputs. Press **Run** to update them; downloads are off until then.")

run: ui.Run = results.edited
shown = run.scenario
n = run.activity.n_replications
so_far = ""
if not results.complete:  # a first look; the rest follow below unless the inputs have changed since
    follow = fresh and not st.session_state.get("cancelled")
    so_far = f" (a first look: {n:,} of {results.reps:,}{'; the rest follow' if follow else ''})"
engine_name = ui.ENGINE_LABELS.get(results.engine, results.engine).lower()
st.caption(
    f"**{shown.name}**: {n:,} replications{so_far} of {ui.horizon_text(shown)} · {engine_name} engine · "
    f"seed {shown.seed} · {results.seconds:.1f} s"
)

# --- 3. Results -------------------------------------------------------------------------------------------

unit = "£m"
if run.rules:
    unit = st.radio(
        "Money in",
        list(ui.MONEY_UNITS),
        key="money_unit",
        horizontal=True,
        help="The basis of every figure on the page: £ millions, or £ thousands for a small trust or a small change.",
    )
page = Page(results, edited, unit, reps, engine, years, seed, prefix, choices, chosen)
summary.draw(page)

TABS = {
    "Risk": risk.draw,
    "Scenarios side by side": side_by_side.draw,
    "Surplus by month": surplus.draw,
    "Commissioner spend": spend.draw,
    "Out-of-area placements": oap.draw,
    "MHIS": mhis.draw,
    "What your changes did": changes.draw,
    "Sensitivity": sensitivity.draw,
    "Contract design": design.draw,
    "Activity": activity.draw,
}
"""The tabs under the headline, in order: each module of :mod:`paysim.app_tabs` draws its own from the page."""
for tab, draw in zip(st.tabs(list(TABS)), TABS.values(), strict=True):
    with tab:
        draw(page)

# --- 4. The rest of the run -------------------------------------------------------------------------------
# The page above shows the first piece of a long run. Simulate the rest a piece at a time (a new input stops
# this between pieces; pieces already simulated stay cached), then draw the page again with all of them.

if fresh and not results.complete and not st.session_state.get("cancelled"):
    results.first_look_at = results.first_look_at or time.perf_counter()
    st.button("Cancel the run", on_click=cancel_run, key="cancel-rest", help="Stops after the piece in hand.")
    while not results.complete:
        piece = results.pieces[results.done]
        following.progress(
            piece.start / results.reps,
            text=f"A first look at {piece.start:,} replications; simulating the rest of the {results.reps:,}...",
        )
        try:
            results.simulate_next(simulate)
        except (ScenarioError, ValueError) as problem:
            stop_with(f"The scenario cannot be run: {problem}")
    following.progress(1.0, text=f"Pricing {results.reps:,} replications...")
    results.price()
    st.rerun()
