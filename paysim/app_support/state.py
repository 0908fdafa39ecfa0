"""What the app's widgets hold between runs of its script, kept when a run stops before they are drawn.

Streamlit forgets a widget's value when a run of the script does not draw it: a run that stops on an error (an
upload that does not validate) before the sidebar's levers and run settings would otherwise send every one of
them back to its default on the next run, and the runs after it would use that default without saying so (the
replications falling from the 200 shown to 10). :func:`keep_widget_state`, called at the top of each run,
copies the values of the widgets worth keeping into a store of its own and puts back any the last run lost.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

KEPT = "kept-widget-values"
"""The session-state key of the store of kept widget values, ``{widget key: value}``."""

KEPT_NAMES = ("scenario_name", "engine", "auto")
"""Widgets kept by their exact key (the scenario picked, the engine, whether results follow the inputs)."""

KEPT_PREFIXES = ("reps-", "tornado-reps-")
"""Widgets kept by the start of their key (the replications of each engine)."""

SCENARIO_WIDGET = ":"
"""Lever, years and seed widgets have keys ``<scenario fingerprint>-<reset>:<name>``: kept too."""


def is_kept(key: str) -> bool:
    """Whether the widget with this session-state key keeps its value across a run that does not draw it.

    >>> is_kept("reps-vector"), is_kept("abc-0:services.inpatient.beds"), is_kept("upload")
    (True, True, False)
    """
    return key in KEPT_NAMES or key.startswith(KEPT_PREFIXES) or SCENARIO_WIDGET in key


def keep_widget_state(state: MutableMapping[str, Any]) -> list[str]:
    """Record the kept widgets' current values and restore those the last run of the script lost.

    Parameters
    ----------
    state:
        The session state (``st.session_state``, or a dict in tests).

    Returns
    -------
    list of str
        The keys restored (empty when no run stopped early).
    """
    store: dict[str, Any] = dict(state.get(KEPT, {}))
    restored = [key for key in store if key not in state]
    for key in restored:
        state[key] = store[key]
    store.update({key: state[key] for key in list(state.keys()) if isinstance(key, str) and is_kept(key)})
    state[KEPT] = store
    return restored
