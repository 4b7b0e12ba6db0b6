"""Generators of reports (benchmarks, the soak, the verdict matrix): tools that the
Makefile runs, not claims (those are in specs/)."""
