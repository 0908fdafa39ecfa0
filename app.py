"""paysim in the browser: who carries which risk under block, activity, blended, capitation and API payment.

Start it with ``streamlit run app.py``. This file holds only the page layout and its widgets; every figure,
table and chart comes from :mod:`paysim.app_support`. Each widget maps onto scenario keys and is validated
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
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

with first_paint.container():
    with st.spinner("Loading the simulator..."):
        from paysim import app_support as ui
        from paysim.activity import Activity
        from paysim.analysis.design import Design, DesignError
        from paysim.analysis.risk import RiskAttribution
        from paysim.analysis.sensitivity import SensitivityError, SobolResult, Tornado
        from paysim.app_support.warm import WarmUp, start_warm_up
        from paysim.calibrate import DataError
        from paysim.model.scenario import Scenario, ScenarioError, scenario_from_yaml
        from paysim.money.finance import missing_measures
first_paint.empty()


@st.cache_resource(show_spinner=False)
def warm_up() -> WarmUp:
    """The vector engine's kernels, compiling in the background from the server's first page (once a server)."""
    return start_warm_up("vector")


warming = warm_up()


def show_chart(chart: Any, **kwargs: Any) -> None:
    """Draw an Altair chart (converted by :func:`paysim.app_support.vega_spec`, without a schema check)."""
    st.vega_lite_chart(spec=ui.vega_spec(chart), **kwargs)


@st.cache_data(max_entries=128, max_size="1GB", show_spinner=False)
def simulate(activity_text: str, first: int, stop: int, engine: str) -> Activity:
    """Replications ``first .. stop - 1`` of a scenario (its engine-facing YAML), shared by every session."""
    return ui.simulate(activity_text, first, stop, engine)


@st.cache_data(max_entries=16, show_spinner=False)
def tornado(scenario_yaml: str, measure: str, reps: int, engine: str) -> Tornado:
    """One-way sensitivity of a scenario (its YAML) on common random numbers, shared by every session."""
    return ui.run_tornado(scenario_yaml, measure, reps, engine)


@st.cache_data(max_entries=8, show_spinner=False)
def sobol(scenario_yaml: str, measure: str, samples: int, reps: int, engine: str) -> SobolResult:
    """Sobol indices of a scenario (its YAML), shared by every session."""
    return ui.run_sobol(scenario_yaml, measure, samples, reps, engine)


@st.cache_data(max_entries=32, show_spinner=False)
def contract_design(results_key: str, choice: str, target: float | None, _run: ui.Run) -> Design:
    """A design answer on the run the page shows (``results_key`` fingerprints its inputs and activity)."""
    return ui.run_design(_run, next(c for c in ui.DESIGN_CHOICES if c.name == choice), target)


@st.cache_data(max_entries=8, show_spinner=False)
def fit_data(name: str, content: bytes, base_yaml: str) -> ui.AppCalibration:
    """A scenario (its YAML) fitted to an uploaded monthly table, with its back-test, shared by every session."""
    return ui.fit_upload(name, content, scenario_from_yaml(base_yaml, source="the chosen scenario"))


@st.cache_data(max_entries=32, show_spinner=False)
def load_file(path: str, modified: float) -> Scenario:
    """A scenario file offered in the picker (reloaded when the file changes)."""
    return ui.load_choice(Path(path))


@st.cache_data(max_entries=32, show_spinner=False)
def risk_attribution(results_key: str, _run: ui.Run) -> RiskAttribution:
    """Who carries which risk on the run the page shows (``results_key`` fingerprints its inputs and activity)."""
    return ui.attribution(_run)


def show_table(frame: Any) -> None:
    """A table drawn whole (every row, and it prints), indexed by its first column."""
    st.table(frame.set_index(frame.columns[0]))


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
base: ui.Run = results.base
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

edited_anything = bool(ui.edited_keys(base.scenario, shown))
unit = "£m"
if run.rules:
    unit = st.radio(
        "Money in",
        list(ui.MONEY_UNITS),
        key="money_unit",
        horizontal=True,
        help="The basis of every figure on the page: £ millions, or £ thousands for a small trust or a small change.",
    )
    st.subheader("Provider surplus a year (mean over the runs)")
    columns = st.columns(len(run.rules))
    for column, row in zip(columns, ui.headline(run, base if edited_anything else None), strict=True):
        change = row["change_a_year"]
        column.metric(
            row["label"],
            ui.money(row["surplus_a_year"], unit),
            delta=None if change is None else f"{ui.money(change, unit, sign=True)} a year from your changes",
            help="Mean provider surplus (income less cost) per contract year; the change is the mean paired "
            "difference from the scenario as loaded, on the same random patients.",
        )
        column.caption(
            f"Chance of a deficit over the {run.years} years **{ui.percent(row['p_deficit'])}** · "
            f"in at least one year {ui.percent(row['p_deficit_any_year'])}"
        )
    if not run.has_costs:
        st.warning("This scenario has no costs, so the provider's cost is zero and its surplus is its income.")

    st.subheader("Who carries the risk")
    found: RiskAttribution = risk_attribution(ui.inputs_key(results.key, n), run)
    for sentence in ui.rule_sentences(found):
        st.markdown(f"- {sentence}")
    st.markdown(
        "**Each party's position by financial year.** *Expected* is the mean over the runs; the *bad year* is "
        "the provider's surplus in its worst year in 20 (5th percentile) and the commissioner's spend in its "
        "worst year in 20 (95th percentile). A minus sign is a deficit."
    )
    st.table(ui.position_table(run, unit).set_index(["Rule", "Position"]))
    st.markdown(
        "**The risk matrix.** How much each risk moves each party's position in a typical year (one standard "
        "deviation), and its share of all the movement of that party's position under that rule. Demand, "
        "out-of-area placements, outcome payments and baseline plans set on last year's outturn move from run "
        "to run; the pay award, cost inflation, CIP delivery, the OAP price and a baseline error are "
        "assumptions, each priced again at both ends of its range on the same runs."
    )
    st.table(ui.risk_matrix(found, unit).set_index(["Rule", "Party"]))
    with st.expander("Income and expenditure by financial year", expanded=False):
        st.markdown(
            "The provider's income, expenditure and surplus under each rule: the median run (P50) of each line, "
            "and the surplus in a bad year (1 in 20). Medians need not add up: each line is its own median."
        )
        st.table(ui.income_and_expenditure_table(run, unit))
    with st.expander("How each rule pays: a worked example in £", expanded=False):
        for rule in run.rules:
            st.markdown(ui.worked_example(run, rule, unit))
else:
    st.info(
        "This scenario has no contracts, so there is no money to show: the tabs below show the simulated "
        "activity only. Add contracts and costs to the scenario file to compare payment rules."
    )

tabs = st.tabs(
    [
        "Risk",
        "Scenarios side by side",
        "Surplus by month",
        "Commissioner spend",
        "Out-of-area placements",
        "MHIS",
        "What your changes did",
        "Sensitivity",
        "Contract design",
        "Activity",
    ]
)

with tabs[0]:
    if run.rules:
        st.markdown(
            "How the provider's surplus in one contract year is spread over the runs. The solid line is the "
            "mean, the dashed lines the 5th and 95th percentiles; the red line is break-even. A wide "
            "histogram means the provider carries the risk; a narrow one that the rule passes it on."
        )
        year = st.selectbox(
            "Financial year",
            list(range(1, run.years + 1)),
            index=run.years - 1,
            format_func=lambda y: ui.financial_year(y, shown.start_month),
            key=f"risk_year-{run.years}",
        )
        table = ui.yearly_surplus(run)
        chosen_year = table[table["year"] == year]
        domain = ui.nice_domain(chosen_year["surplus"].to_numpy())
        for rule in run.rules:
            values_of_rule = chosen_year[chosen_year["rule"] == ui.RULE_LABELS[rule]]["surplus"].to_numpy()
            show_chart(
                ui.risk_histogram(values_of_rule, rule, ui.financial_year(year, shown.start_month), domain, unit),
                width="stretch",
            )
        st.markdown(
            "**Expected shortfall** is the average surplus of the worst 5 % of runs: what a bad outcome "
            "looks like, not just how often it happens."
        )
        st.table(ui.risk_display(ui.risk_table(run), run.years, unit).set_index("Rule"))
        if run.costs.cip is not None:
            st.markdown(
                "**Cost improvement.** The programme saves a share of the cost the provider controls (all but "
                "OAP bed days bought from other providers) every year; what it delivers and recurs compounds. "
                "The same savings lower the cost under every rule."
            )
            show_table(ui.cip_display(ui.cip_table(run), unit, shown.start_month))

with tabs[1]:
    st.markdown(
        f"Pick two to four scenarios: shipped ones, an uploaded file, or lever settings you saved. Each runs the "
        f"same {reps:,} replications with seed {shown.seed} over {ui.horizon_text(shown)}, so the same patients "
        "arrive wherever the scenarios agree, and each is compared with the first on those same runs (a paired "
        "difference, with its 95 % interval)."
    )
    saved: dict[str, str] = st.session_state.setdefault("saved_levers", {})
    save_columns = st.columns([3, 1])
    save_name = save_columns[0].text_input(
        "Save the levers as", placeholder="e.g. plan + 10 beds", key="save-name", help="A name for the levers now set."
    )
    if save_columns[1].button("Save the levers", disabled=not save_name.strip(), width="stretch"):
        saved[save_name.strip()] = edited.to_yaml()
        st.toast(f"Saved the levers as {save_name.strip()!r}")
    options = [f"{ui.SAVED_PREFIX}{name}" for name in saved] + list(choices)
    picked = st.multiselect(
        "Scenarios to compare (the first is the one the others are compared with)",
        options,
        default=[name for name in (chosen, "more-beds") if name in options][:2],
        max_selections=ui.MAX_SCENARIOS,
        key="compare-picked",
    )
    if st.button("Compare the scenarios", type="primary", disabled=len(picked) < ui.MIN_SCENARIOS):
        try:
            named = {
                name: scenario_from_yaml(saved[name.removeprefix(ui.SAVED_PREFIX)], source=name)
                if name.startswith(ui.SAVED_PREFIX)
                else load_file(str(choices[name]), choices[name].stat().st_mtime)
                for name in picked
            }
            to_run = ui.comparable(named, years, seed)
            progress = st.progress(0.0, text="Simulating the scenarios...")
            compared = {}
            for i, (name, scenario) in enumerate(to_run.items()):
                progress.progress(i / len(to_run), text=f"Simulating {name} ({i + 1} of {len(to_run)})...")
                compared[name] = ui.run_money(scenario, simulate(ui.activity_yaml(scenario), 0, reps, engine))
            progress.empty()
            st.session_state["compared"] = {"key": ui.inputs_key(picked, years, seed, reps, engine), "runs": compared}
        except (ScenarioError, ValueError) as problem:
            st.error(f"The scenarios cannot be compared: {ui.problem_text(problem)}", icon=":material/error:")
    done_comparison = st.session_state.get("compared")
    if done_comparison is not None:
        if done_comparison["key"] != ui.inputs_key(picked, years, seed, reps, engine):
            st.warning("This comparison is for other scenarios or settings. Press **Compare the scenarios** to update.")
        st.table(ui.comparison_table(done_comparison["runs"], unit).set_index(["Rule", "Scenario"]))

with tabs[2]:
    if run.rules:
        views = {
            "Year to date": ("Provider surplus, year to date", "Surplus, year to date", {"year_to_date": True}),
            "Each month": ("Provider surplus in each month", "Surplus in the month", {}),
            "Running total from the start": (
                "Provider surplus, running total",
                "Surplus to date",
                {"cumulative": True},
            ),
        }
        view = st.radio("Show", list(views), horizontal=True, key="fan_view")
        st.markdown(
            "Months are numbered in each financial year (M1 is April). The line is the median run; the dark band "
            "holds the middle 50 % of runs and the light band 90 %. A rule paying at the year end (capitation's "
            "outcome payment) shows as a step in M12 of the year to date."
        )
        title, y_title, options = views[view]
        show_chart(ui.fan_chart(ui.fan_table(run, **options), title, y_title))

with tabs[3]:
    if run.rules:
        st.markdown(
            "What the commissioner pays each year under each rule (including OAP bed days it pays directly): "
            "the dot is the median run, the bar runs from the 5th to the 95th percentile. A long bar means "
            "the commissioner carries the volume risk."
        )
        spend = ui.spend_table(run)
        show_chart(ui.spend_chart(spend))
        show_table(ui.spend_display(spend, unit, shown.start_month))

with tabs[4]:
    if shown.services.inpatient is not None:
        paid_by = shown.contracts.oap_paid_by if shown.contracts is not None else "provider"
        price = shown.costs.beds.oap_per_bed_day if shown.costs is not None else 0.0
        st.markdown(
            f"When every local bed is full, a patient goes to an out-of-area placement at "
            f"**{ui.gbp(price)} a bed day**, paid by the **{paid_by}**. Bed days by month:"
        )
        show_chart(
            ui.activity_fan_chart(ui.measure_fan(run.activity, "inpatient.oap_bed_days"), "OAP bed days in the month"),
            width="stretch",
        )
        show_table(ui.oap_display(ui.oap_table(run), unit, shown.start_month))
        priced = ui.oap_priced_by(run)
        if priced:
            st.caption(
                f"{' and '.join(priced)} contracts also pay the provider a price per OAP bed day, so under them "
                "the commissioner refunds OAP spend through the provider's income."
            )
    else:
        st.info("This scenario has no adult acute beds, so no out-of-area placements.")

with tabs[5]:
    mhis = ui.mhis_table(run)
    if len(mhis):
        st.markdown(
            "The Mental Health Investment Standard is the ICB's test: all its qualifying mental-health spend "
            "(this provider's, less learning disability, autism, dementia and specialised services, plus its "
            "spend elsewhere: other providers, the independent and voluntary sectors, prescribing, continuing "
            "healthcare) must grow at least as fast as its allocation plus the mental-health increment. The "
            "verdict counts the runs that meet it; **Provider-level proxy** is the same test on the spend with "
            "this provider alone."
        )
        show_table(ui.mhis_display(mhis, unit, shown.start_month))
    else:
        st.info("This scenario does not describe the ICB's mental-health spend, so the standard is not checked.")

with tabs[6]:
    if not edited_anything:
        st.info("Move a lever to see what it does: each change is compared with the scenario file on the same runs.")
    else:
        st.markdown(
            "Your changes against the scenario file, run on the same random patients (paired), so the "
            "differences are the effect of the changes alone. The interval is a 95 % interval of the mean change."
        )
        show_table(ui.edits_display(base.scenario, shown))
        table = ui.changes_table(base, run)
        if (table["unit"] == "GBP").any():
            show_chart(ui.changes_chart(table))
        show_table(ui.changes_display(table, run.years, unit, shown.start_month))
        if run.rules:
            st.markdown(
                "**Who captures the saving.** The system cost is what the provider spends plus the OAP spend the "
                "commissioner pays directly. A fall in it (a saving; negative: an extra cost) is shared between a "
                "higher provider surplus and lower commissioner spend, and the payment rule decides the split."
            )
            st.table(ui.saving_display(ui.saving_table(base, run), run.years, unit).set_index("Rule"))

with tabs[7]:
    st.markdown(
        "Which uncertain assumptions move the results most? Each assumption the scenario gives a range for "
        "is set in turn to the low and the high end of its range, every other parameter at its central value "
        "(the value in the file, or the one your levers set: a key set by a lever is pinned and not varied)."
    )
    if edited.uncertain is None:
        st.info(
            "This scenario gives no ranges for its assumptions, so there is nothing to rank. Add an `uncertain:` "
            "section to the scenario file (see *Parameter uncertainty* in the README) and upload it to see its "
            "tornado here.",
            icon=":material/info:",
        )
    else:
        scenario_yaml = edited.to_yaml()
        measures = ui.sensitivity_measures(edited)
        controls = st.columns([2, 1])
        measure = controls[0].selectbox(
            "Results column",
            measures,
            index=measures.index(ui.default_measure(edited)),
            format_func=ui.measure_label,
            key=f"{prefix}:sensitivity-measure",
            help="The result whose mean the parameters are ranked by. Money is GBP over the whole horizon.",
        )
        tornado_reps_key = f"tornado-reps-{engine}"
        if tornado_reps_key not in st.session_state:
            st.session_state[tornado_reps_key] = ui.default_tornado_replications(engine)
        tornado_reps = controls[1].select_slider(
            "Replications of each run",
            options=[10, 20, 50, 100, 200, 500],
            key=tornado_reps_key,
            help="Every run uses the same replications (the same random patients), so few are needed.",
        )
        runs = ui.tornado_simulations(edited)
        tornado_key = ui.inputs_key(scenario_yaml, measure, tornado_reps, engine)
        if st.button(
            "Run the tornado",
            type="primary",
            help=f"{runs} simulations of {tornado_reps:,} replications (a contract or cost parameter only "
            "re-prices the central simulation).",
        ):
            with st.spinner(f"Running {runs} simulations of {tornado_reps:,} replications...", show_time=True):
                try:
                    st.session_state["tornado"] = {
                        "key": tornado_key,
                        "result": tornado(scenario_yaml, measure, tornado_reps, engine),
                    }
                except (SensitivityError, ScenarioError, ValueError) as problem:
                    st.error(f"The tornado cannot be run: {ui.problem_text(problem)}", icon=":material/error:")
        done = st.session_state.get("tornado")
        if done is None:
            st.caption(f"The tornado takes {runs} simulations of {tornado_reps:,} replications on the {engine} engine.")
        else:
            result: Tornado = done["result"]
            stale = done["key"] != tornado_key
            if stale:
                st.warning("This tornado is for earlier inputs. Press **Run the tornado** to update it.")
            ends = ui.tornado_ends(result)
            label = ui.measure_phrase(result.measure)
            st.markdown(
                f"A parameter's **swing** is how far the mean {label} over the horizon moves when that parameter "
                f"goes from its {ends['low']} to its {ends['high']}. Every run uses the same "
                f"{result.reps:,} replications (the same random patients), so a swing is the parameter's effect, "
                "not noise; its standard error says how precisely it is known. The longest bars are the "
                "assumptions most worth pinning down; a short bar means the result hardly depends on it."
            )
            show_chart(ui.tornado_chart(result), width="stretch")
            st.caption(
                f"Mean at central values (the black line): "
                f"**{ui.measure_text(result.value_central, ui.is_money(result.measure))}**; "
                f"{result.reps:,} replications per run; each bar is labelled with the parameter's value."
            )
            show_table(ui.tornado_display(result))
            st.download_button(
                "Tornado table (CSV)",
                ui.tornado_csv(result),
                file_name=f"{edited.name}-tornado.csv",
                mime="text/csv",
                disabled=stale,
                on_click="ignore",
                key=f"download-tornado-{'stale' if stale else 'ready'}",
            )

        st.markdown(
            "#### Sobol indices (optional)\n"
            "A global view: all parameters vary together. The **first-order** index is the share of the "
            "variance of the mean that a parameter explains alone; the **total** index adds its interactions "
            "with the others. A small sample gives rough estimates (the ± column); correlations between "
            "parameters are ignored."
        )
        sobol_controls = st.columns([2, 1])
        samples = sobol_controls[1].select_slider(
            "Base sample",
            options=[8, 16, 32, 64, 128],
            value=16,
            key="sobol-samples",
            help="Parameter sets drawn = base sample x (parameters + 2), each run for 4 replications.",
        )
        sets = ui.sobol_simulations(edited, samples)
        sobol_key = ui.inputs_key(scenario_yaml, measure, samples, engine)
        sobol_controls[0].caption(f"{sets:,} parameter sets of 4 replications each on the {engine} engine.")
        if st.button("Run the Sobol analysis", help=f"{sets:,} parameter sets of 4 replications each."):
            with st.spinner(f"Running {sets:,} parameter sets...", show_time=True):
                try:
                    st.session_state["sobol"] = {
                        "key": sobol_key,
                        "result": sobol(scenario_yaml, measure, samples, 4, engine),
                    }
                except (SensitivityError, ScenarioError, ValueError) as problem:
                    st.error(f"The Sobol analysis cannot be run: {ui.problem_text(problem)}", icon=":material/error:")
        indices = st.session_state.get("sobol")
        if indices is not None:
            if indices["key"] != sobol_key:
                st.warning("These Sobol indices are for earlier inputs. Press **Run the Sobol analysis** to update.")
            show_chart(ui.sobol_chart(indices["result"]), width="stretch")
            show_table(ui.sobol_display(indices["result"]))
            for note in indices["result"].notes:
                st.caption(f"Note: {note}.")

with tabs[8]:
    design_options = {choice.name: choice for choice in ui.design_choices(shown)}
    if not design_options:
        st.info("This scenario has no block, capitation, blended or API contract whose terms can be designed here.")
    else:
        st.markdown(
            f"Which contract term meets a goal? The answer is found on the {n:,} replications this page "
            "simulated: only the money is recomputed at each trial value, so it takes seconds. Its 95 % interval "
            "is a bootstrap over the replications (Monte Carlo uncertainty, not uncertainty in the inputs). "
            "A **10 % chance of a deficit** means the provider breaks even in 9 runs out of 10; **equal "
            "expected shortfall** means the provider's worst 5 % of outcomes (below its mean surplus) and the "
            "commissioner's (above its mean spend) are the same size."
        )
        controls = st.columns([2, 1])
        choice_name = controls[0].selectbox(
            "Goal",
            list(design_options),
            format_func=lambda name: design_options[name].label,
            key="design-choice",
            help="The contract term to solve for and the goal it must meet, over the whole horizon.",
        )
        choice = design_options[choice_name]
        target = None
        if choice.goal == "p-deficit":
            target = (
                controls[1].slider(
                    "Chance of a deficit over the horizon (%)",
                    1,
                    50,
                    value=10,
                    key="design-target",
                    help="The share of runs in which the provider ends the horizon in deficit.",
                )
                / 100
            )
        shown_key = ui.inputs_key(results.key, n)  # the inputs, and how many of the run's replications are in
        design_key = ui.inputs_key(shown_key, choice_name, target)
        if st.button("Find the value", type="primary", help="Solve for the term on the replications shown."):
            with st.spinner("Solving...", show_time=True):
                try:
                    st.session_state["design"] = {
                        "key": design_key,
                        "result": contract_design(shown_key, choice_name, target, run),
                        "scenario": shown,
                    }
                except (DesignError, ScenarioError, ValueError) as problem:
                    st.error(
                        f"No answer: {ui.problem_text(problem)}. With few replications the worst 5 % is a "
                        "handful of runs: more replications, or another goal, may give one.",
                        icon=":material/error:",
                    )
        answered = st.session_state.get("design")
        if answered is not None:
            if answered["key"] != design_key:
                st.warning("This answer is for an earlier goal or inputs. Press **Find the value** to update it.")
            found: Design = answered["result"]
            answer = ui.design_answer(found, answered["scenario"], unit)
            st.metric(
                answer["term"],
                answer["value"],
                delta=f"{answer['change']} from the scenario as loaded ({answer['current']})",
                delta_color="off",
                help="The contract term that meets the goal on the replications shown.",
            )
            st.markdown(
                f"95 % interval (bootstrap over {found.reps:,} replications): **{answer['interval']}**. Set "
                f"**{answer['term']}** to it with the levers on the left to see every tab at the answer."
            )
            show_chart(ui.design_chart(found), width="stretch")
            asked: Scenario = answered["scenario"]
            show_table(ui.design_display(found, unit, asked.years, asked.start_month))

with tabs[9]:
    st.markdown(
        "What the simulation counted over the whole horizon (counts are totals; caseloads and occupancy are means)."
    )
    if "inpatient.occupancy_mean" in run.activity:
        show_chart(
            ui.activity_fan_chart(
                ui.measure_fan(run.activity, "inpatient.occupancy_mean", 100.0), "Local beds occupied (%)", "#4c78a8"
            ),
            width="stretch",
        )
    show_table(ui.activity_display(ui.activity_table(run.activity)))

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
