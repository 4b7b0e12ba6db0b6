"""Shared by the tests: names taken from the models, not typed again."""

from models.guest_memfd import MUTANTS as _MUTANTS

MUTANTS = tuple(m.name for m in _MUTANTS)
