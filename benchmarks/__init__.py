"""Benchmarks, the chaos run and the scale demo: `python -m benchmarks.<name>` (see the Makefile); not run by pytest."""
