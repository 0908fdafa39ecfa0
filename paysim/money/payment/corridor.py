"""Risk-share corridor: over- and underspend beyond a band shared between provider and commissioner.

For each contract year, with ``V`` the contract value and ``D`` the provider's deficit before the share
(cost less income, GBP; negative = surplus)::

    over  = max(D - band V, 0)                 under = max(-D - band V, 0)
    transfer = min(overspend_share x over, cap V) - min(underspend_share x under, collar V)

A positive transfer is paid by the commissioner to the provider; a negative one is returned by the
provider. The transfer is settled in the last month of the contract year.
"""

from __future__ import annotations

import numpy as np

from paysim.model.terms import Corridor
from paysim.money.payment.schedule import at_year_end, yearly_totals


def corridor_transfer(corridor: Corridor, deficit: np.ndarray, contract_value: np.ndarray) -> np.ndarray:
    """Yearly transfer to the provider under the corridor.

    Parameters
    ----------
    corridor : Corridor
        Band, shares, cap and collar (shares of contract value).
    deficit : ndarray
        Provider cost less income before the share, GBP per contract year, ``[replication, year]``.
    contract_value : ndarray
        Contract value, GBP per contract year, ``[replication, year]`` or ``[year]``.

    Returns
    -------
    ndarray
        GBP per contract year paid to the provider (negative: returned), ``[replication, year]``.
    """
    deficit = np.asarray(deficit, dtype=float)
    value = np.asarray(contract_value, dtype=float)
    band = corridor.band * value
    over = np.maximum(deficit - band, 0.0)
    under = np.maximum(-deficit - band, 0.0)
    support = corridor.overspend_share * over
    if corridor.cap is not None:
        support = np.minimum(support, corridor.cap * value)
    clawback = corridor.underspend_share * under
    if corridor.collar is not None:
        clawback = np.minimum(clawback, corridor.collar * value)
    return support - clawback


def risk_share(
    corridor: Corridor, cost: np.ndarray, income_before: np.ndarray, contract_value: np.ndarray
) -> np.ndarray:
    """Corridor payments booked in the last month of each contract year.

    Parameters
    ----------
    corridor : Corridor
    cost, income_before : ndarray
        Provider cost and income before the share, GBP per month, ``[replication, month]``.
    contract_value : ndarray
        GBP per contract year, ``[replication, year]`` or ``[year]``.

    Returns
    -------
    ndarray
        GBP per month, ``[replication, month]``.
    """
    cost = np.asarray(cost, dtype=float)
    deficit = yearly_totals(cost) - yearly_totals(np.broadcast_to(income_before, cost.shape))
    return at_year_end(corridor_transfer(corridor, deficit, contract_value), cost.shape[-1])
