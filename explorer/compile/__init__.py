"""Models to runnable programs: the flat state and generated step functions, the
TSO/PSO lowering, and the load-time checks of what a model declares (sticky)."""
