"""Units of activity that carry a price or a unit cost, counted from Activity measures.

=====================  ===============================================================
currency key           units per month, ``[replication, month]``
=====================  ===============================================================
``inpatient.bed_day``  ``inpatient.local_bed_days``
``inpatient.oap_bed_day``  ``inpatient.oap_bed_days``
``inpatient.episode``  ``inpatient.local_admissions``
``<line>.contact``     ``<line>.caseload_mean`` x days in month x contacts per week / 7
``<line>.course``      ``<line>.completed`` (finished courses; dropouts not counted)
``<line>.episode``     ``<line>.started``
=====================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

SOURCES = {
    "bed_day": "local_bed_days",
    "oap_bed_day": "oap_bed_days",
    "course": "completed",
}
"""Measure counted by each currency (``episode`` is ``started``, or ``local_admissions`` for inpatient)."""


def measure_for(key: str) -> str:
    """The Activity measure a currency key counts (``"community.contact"`` -> ``"community.caseload_mean"``)."""
    line, currency = key.split(".")
    if currency == "contact":
        return f"{line}.caseload_mean"
    if currency == "episode":
        return f"{line}.local_admissions" if line == "inpatient" else f"{line}.started"
    return f"{line}.{SOURCES[currency]}"


def currency_units(
    keys: Iterable[str],
    measures: Mapping[str, np.ndarray],
    month_days: np.ndarray,
    contacts_per_week: Mapping[str, float],
) -> dict[str, np.ndarray]:
    """Units of each currency per replication and month.

    Parameters
    ----------
    keys : iterable of str
        Currency keys ``"<line>.<currency>"``.
    measures : mapping of str to ndarray
        Activity measures, ``[replication, month]`` (an ``Activity.monthly``).
    month_days : ndarray
        Days in each counted month, ``[month]``.
    contacts_per_week : mapping of str to float
        Contacts per person in treatment per week, by line.

    Returns
    -------
    dict of str to ndarray
        Units per month, ``[replication, month]``.

    Raises
    ------
    KeyError
        If the Activity has no measure for a currency (the scenario lacks that service line).
    """
    units = {}
    for key in keys:
        name = measure_for(key)
        if name not in measures:
            line = key.split(".")[0]
            raise KeyError(f"{key}: the activity has no {name} (is services.{line} in the scenario?)")
        values = np.asarray(measures[name], dtype=float)
        if key.endswith(".contact"):
            values = values * np.asarray(month_days, dtype=float) * contacts_per_week[key.split(".")[0]] / 7.0
        units[key] = values
    return units
