"""`python -m bench.run`: throughput, memory and latency of one relstream worker against a bare consumer.

A benchmark, not a test: it reports what it measures and writes it to `bench/RESULTS.md`.
"""
