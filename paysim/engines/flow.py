"""How the lines of a trust feed each other, declared once: the order the engines simulate them in.

The crisis team's gatekept referrals become the ward's bed requests, and the ward's discharges become the
community team's step-downs; talking therapies stands alone. The vector engine simulates the lines in
:data:`LINES` order (each after every line that feeds it), and :mod:`paysim.engines.reuse` keys a line's
cached results on the inputs of the lines upstream of it (:func:`upstream`).
"""

from __future__ import annotations

from paysim.model.lines import SERVICES

LINES = ("talking_therapies", "crisis", "inpatient", "community")
"""Lines in the order the vector engine simulates them: every line after the lines that feed it."""

FEEDS = (
    ("crisis", "inpatient"),  # gatekept crisis referrals -> bed requests
    ("inpatient", "community"),  # ward discharges -> step-downs
)
"""``(upstream, downstream)``: the downstream line takes patients from the upstream one."""

PLACEMENT_KEYS = {"inpatient": ("beds", "oap")}
"""Keys of a line's section that decide only where its patients are treated (a local bed or out of area), not whom
it passes on: the ward's bed requests, discharges and readmissions are the same whatever its beds and placement
policy, so moving the beds re-simulates only the queue for them (:mod:`paysim.engines.reuse`)."""


def upstream(line: str) -> tuple[str, ...]:
    """The lines that feed ``line`` directly, in :data:`LINES` order."""
    if line not in LINES:
        raise KeyError(f"unknown line {line!r}; the lines are {', '.join(LINES)}")
    return tuple(source for source, target in FEEDS if target == line)


def downstream(line: str) -> tuple[str, ...]:
    """The lines ``line`` feeds directly, in :data:`LINES` order."""
    if line not in LINES:
        raise KeyError(f"unknown line {line!r}; the lines are {', '.join(LINES)}")
    return tuple(target for source, target in FEEDS if source == line)


def _check_order() -> None:
    if sorted(LINES) != sorted(SERVICES):  # a line left out would come out of the vector engine as zeros
        raise ImportError(f"the engines' line order {LINES} does not hold every service line {SERVICES} once")
    for line in PLACEMENT_KEYS:
        if line not in LINES:
            raise ImportError(f"PLACEMENT_KEYS names {line!r}, which is not a line in {LINES}")
    for source, target in FEEDS:
        if LINES.index(source) >= LINES.index(target):
            raise AssertionError(f"{source} feeds {target} but comes after it in LINES")


_check_order()
