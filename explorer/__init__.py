"""Exhaustive interleaving explorer for Linux kernel concurrency protocols."""

__version__ = "0.1.0"
