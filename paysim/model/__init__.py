"""The model's inputs: a scenario file and what it holds (:mod:`~paysim.model.scenario`, with the contracts' and
costs' terms in :mod:`~paysim.model.terms` and the ``uncertain:`` block in :mod:`~paysim.model.uncertainty`), the
service lines (:mod:`~paysim.model.lines`), demand, durations, plausibility limits and the random streams. The
bottom layer: it imports nothing else of paysim."""
