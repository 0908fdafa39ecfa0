"""Units of activity that carry a price or a unit cost, counted from Activity measures: each line declares its
currencies and the measure each counts (:attr:`paysim.model.lines.ServiceLine.currencies`).

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

from paysim.model.lines import service_line


def measure_for(key: str) -> str:
    """The Activity measure a currency key counts (``"community.contact"`` -> ``"community.caseload_mean"``), as
    the line declares it; a ValueError naming the line's currencies for a currency it does not have."""
    line, currency = key.split(".")
    currencies = service_line(line).currencies
    if currency not in currencies:
        raise ValueError(f"{key}: {line} has no currency {currency!r}; its currencies are {', '.join(currencies)}")
    return f"{line}.{currencies[currency]}"


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
