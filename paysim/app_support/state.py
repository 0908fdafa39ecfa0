"""What the app's widgets hold between runs of its script, kept when a run stops before they are drawn.

A run that stops on an error (an upload that does not validate) before the sidebar's levers and run settings
loses them twice. On the server, Streamlit may forget a widget's value when a run does not draw it. In the
browser, the widgets are taken off the page, and when the next run draws them again the browser shows each
widget's *default* (its first option or its minimum: 10 replications, 0 beds) unless the server says the value
was set; the value shown is then sent back with the next interaction, so the runs after it use the default
without saying so (the replications falling from the 200 of the caption to the 10 of the slider).

:func:`keep_widget_state`, called at the top of each run before anything can stop it, keeps the values of the
widgets worth keeping in a store of its own. After a run that stopped before :func:`widgets_drawn` was called,
it sets each of them again through the session state, which puts back any the server forgot and makes the page
show the value held rather than the widget's default.
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


DRAWN = "kept-widgets-drawn"
"""The session-state key that says whether the last run drew the kept widgets (False while a run is going)."""


def keep_widget_state(state: MutableMapping[str, Any]) -> list[str]:
    """Record the kept widgets' values; after a run that stopped before drawing them, set them all again.

    Call at the top of each run of the script, before anything can stop it, and :func:`widgets_drawn` once
    the widgets are drawn.

    Parameters
    ----------
    state:
        The session state (``st.session_state``, or a dict in tests).

    Returns
    -------
    list of str
        The keys set again (empty when the last run drew its widgets).
    """
    store: dict[str, Any] = dict(state.get(KEPT, {}))
    again: list[str] = []
    if not state.get(DRAWN, True):  # the last run stopped before its widgets
        for key, value in store.items():
            state[key] = state[key] if key in state else value  # set through the API: the page shows it
            again.append(key)
    store.update({key: state[key] for key in list(state.keys()) if isinstance(key, str) and is_kept(key)})
    state[KEPT] = store
    state[DRAWN] = False
    return again


def widgets_drawn(state: MutableMapping[str, Any]) -> None:
    """Mark this run's kept widgets as drawn (:func:`keep_widget_state` then leaves them be next run)."""
    state[DRAWN] = True
