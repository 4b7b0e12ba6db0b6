"""Why each mutant gets the verdicts it gets, in words (see specs/verdicts.py).

Written by reading the counterexamples `make verdicts` prints; keyed by
(model, mutant), or ("*", mutant) for every model. These sentences explain;
they never decide a verdict.
"""

from __future__ import annotations

NOTES: dict[tuple[str, str], str] = {}
