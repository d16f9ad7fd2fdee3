"""Benchmarks, run by hand (`make bench`), never inside the test suite."""
