"""Contract and cost terms of a scenario (the ``contracts:`` and ``costs:`` blocks).

These are plain validated data; the payment rules in :mod:`paysim.payment` and the cost model in
:mod:`paysim.costs` turn them, with an Activity, into money.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Terms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BlockTerms(_Terms):
    """Block contract: a fixed annual sum paid in twelfths, rolled forward each year."""

    annual_value: float = Field(ge=0, description="GBP per year in the first contract year")
    uplift: float = Field(0.0, gt=-1, le=1, description="yearly change of the value, net of efficiency")


class Contracts(_Terms):
    """The payment rules a scenario runs; every rule present is applied to the same Activity."""

    oap_paid_by: Literal["provider", "commissioner"] = Field(
        "provider", description="who pays for out-of-area placement bed days"
    )
    block: BlockTerms | None = None


class Costs(_Terms):
    """What the provider spends (filled in by the cost model)."""
