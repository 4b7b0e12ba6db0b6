"""Properties of the models, and the catalog of what `explorer` can check."""
