"""Benchmarks of the payment path; `make bench` runs them. Not part of the tests."""
