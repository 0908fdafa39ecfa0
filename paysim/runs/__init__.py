"""Running a scenario: :func:`paysim.run` (:mod:`~paysim.runs.runner`) and its result
(:mod:`~paysim.runs.results`), over the chunked runs in processes or on Dask (:mod:`~paysim.runs.montecarlo`),
the bounded-memory run (:mod:`~paysim.runs.batch`), the run under parameter uncertainty
(:mod:`~paysim.runs.psa`), the memory check (:mod:`~paysim.runs.footprint`), results files
(:mod:`~paysim.runs.io`) and signals (:mod:`~paysim.runs.interrupts`)."""
