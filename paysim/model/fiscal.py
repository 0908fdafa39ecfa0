"""Financial-year labels for the money: contract years as ``2026/27`` and their months as ``M1`` to ``M12``.

The model has no calendar: it counts contract years from 1 and months from the scenario's ``start_month``.
Finance reports name them by financial year, so the app, the workbook and the board pack label them here,
with contract year 1 starting in :data:`FIRST_FINANCIAL_YEAR`.
"""

from __future__ import annotations

FIRST_FINANCIAL_YEAR = 2026
"""The calendar year in which contract year 1 starts, for labels only (modelling choice: the year the
simulation looks ahead from, 2026/27; the model itself has no calendar)."""


def financial_year(year: int, start_month: int = 4, first: int = FIRST_FINANCIAL_YEAR) -> str:
    """The label of contract year ``year`` (1-based): ``2026/27`` for an April start, ``2026`` for January.

    >>> financial_year(1), financial_year(3), financial_year(2, start_month=1)
    ('2026/27', '2028/29', '2027')
    """
    begins = first + year - 1
    if start_month == 1:
        return str(begins)
    return f"{begins}/{(begins + 1) % 100:02d}"


def month_labels(months: int, start_month: int = 4, first: int = FIRST_FINANCIAL_YEAR) -> list[str]:
    """Labels of the counted months: ``2026/27 M1`` ... ``2026/27 M12``, ``2027/28 M1``, ... (M1 is the
    scenario's ``start_month``: April for a financial year).

    >>> month_labels(14)[:2], month_labels(14)[-2:]
    (['2026/27 M1', '2026/27 M2'], ['2027/28 M1', '2027/28 M2'])
    """
    return [f"{financial_year(m // 12 + 1, start_month, first)} M{m % 12 + 1}" for m in range(months)]
