"""The benchmarks of `benches/run.py`, one module per measured path, and the report."""
