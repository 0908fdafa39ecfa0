"""The errors a user can fix, declared below every module that raises them.

:class:`ScenarioError` is raised while a scenario is read and validated (:mod:`paysim.model.scenario`) and while
its ``uncertain:`` block is checked (:mod:`paysim.model.uncertainty`, which :mod:`paysim.model.scenario` imports);
it lives here so that neither has to import the other to raise it. ``paysim.model.scenario.ScenarioError`` is the
same class.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file, mapping or override is invalid; the message is ready to show a user."""


__all__ = ["ScenarioError"]
