"""Duration distributions (episode lengths, lengths of stay), described by mean and sd in days.

A scenario names a distribution and gives its mean and standard deviation, the figures published for
lengths of stay and episode lengths; this module turns those two moments into draws.

Limits (plausibility, see :mod:`paysim.model.limits`): the mean lies between a minute and ten years (no episode or
stay is shorter than a minute, and one longer than the longest horizon never ends inside it), and the sd is at
most :data:`MAX_CV` times the mean. Published lengths of stay have a coefficient of variation about 1.2 (adult
acute: mean 33 days, sd 40); at a cv of hundreds (mean 1e-300, sd 1e300) a gamma draws zeros and a lognormal
puts nearly all of its mean in draws that never happen in a run, so no run would see the stated mean.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from paysim.model.limits import LONGEST_DAYS, MAX_CV, MODEL_CONFIG, TEN_YEARS, why
from paysim.model.samplers import MAX_TABLE_CV, TABLES

DistName = Literal["lognormal", "exponential", "gamma", "fixed"]

MINUTE_DAYS = 1 / 1440
"""The shortest mean duration, a minute, in days."""


class Duration(BaseModel):
    """A positive duration in days: ``dist`` with ``mean`` and ``sd``.

    ``lognormal`` and ``gamma`` need ``sd > 0``; ``exponential`` has sd = mean (``sd`` may be left out or
    must equal the mean); ``fixed`` has sd = 0 (``sd`` may be left out or must be 0).
    """

    model_config = MODEL_CONFIG

    dist: DistName = Field(description="lognormal | exponential | gamma | fixed")
    mean: float = Field(
        gt=0,
        le=LONGEST_DAYS,
        description="mean duration, days (at least a minute, 1/1440)",
        json_schema_extra=why(maximum=TEN_YEARS),
    )
    sd: float | None = Field(
        default=None,
        ge=0,
        le=MAX_CV * LONGEST_DAYS,
        description=f"standard deviation, days (at most {MAX_CV} x the mean)",
        json_schema_extra=why(maximum=f"{MAX_CV} times the longest mean"),
    )

    @model_validator(mode="after")
    def _sd_fits_dist(self) -> Duration:
        if self.mean < MINUTE_DAYS:
            raise ValueError(
                f"mean: must be at least a minute ({MINUTE_DAYS:.6f} days), got {self.mean:g}; no episode or stay "
                "is shorter"
            )
        if self.sd is not None and self.sd > MAX_CV * self.mean:
            raise ValueError(
                f"sd: must be at most {MAX_CV} x the mean ({MAX_CV * self.mean:g} days), got {self.sd:g}: a "
                f"coefficient of variation of {self.sd / self.mean:.3g} (published lengths of stay have about 1.2)"
            )
        if self.dist in ("lognormal", "gamma") and not self.sd:
            raise ValueError(f"sd: a {self.dist} duration needs sd > 0 (days)")
        if self.dist == "exponential" and self.sd is not None and not np.isclose(self.sd, self.mean):
            raise ValueError(f"sd: an exponential duration has sd = mean = {self.mean}; got sd {self.sd}")
        if self.dist == "fixed" and self.sd:
            raise ValueError(f"sd: a fixed duration has sd 0; got {self.sd}")
        return self

    @property
    def std(self) -> float:
        """Standard deviation in days implied by the distribution."""
        if self.dist == "exponential":
            return self.mean
        if self.dist == "fixed":
            return 0.0
        assert self.sd is not None
        return self.sd

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draw ``size`` durations in days (float64)."""
        return sample_duration(self, rng, size)


def sample_duration(d: Duration, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """Draw durations (days) from ``d``.

    lognormal (sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2) and gamma (shape = 1 / cv^2, scale =
    mean * cv^2) come from an inverse-CDF table, one raw value of ``rng`` per draw (:mod:`paysim.model.samplers`:
    KS distance, mean and sd error as the README's "Random draws" states) when cv is at most
    :data:`~paysim.model.samplers.MAX_TABLE_CV`, and from numpy's exact generators above it; exponential from
    numpy's ziggurat (exact, and as fast as a table).
    """
    if d.dist == "fixed":
        return np.full(size, d.mean)
    if d.dist == "exponential":
        return rng.exponential(d.mean, size)
    cv = d.std / d.mean
    if cv <= MAX_TABLE_CV:
        return TABLES[d.dist](cv).sample(rng, size, d.mean)
    if d.dist == "lognormal":
        sigma2 = np.log1p(cv * cv)
        return rng.lognormal(np.log(d.mean) - sigma2 / 2, np.sqrt(sigma2), size)
    return rng.gamma(1.0 / (cv * cv), d.mean * cv * cv, size)
