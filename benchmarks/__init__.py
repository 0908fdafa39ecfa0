"""paysim benchmarks: asv suites (``bench_*.py``) and a plain script (``run.py``)."""
