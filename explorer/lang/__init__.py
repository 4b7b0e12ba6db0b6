"""The model language: expressions, steps, operations, threads, models and their
validation, the builder, access kinds, families (parameters, scenarios, mutants)."""
