"""The verification gate: suites, their results, and JUnit, SARIF, JSON and markdown."""
