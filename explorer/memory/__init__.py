"""Memory models over execution graphs (design-notes, the memory room).

An execution graph of a compiled model (explorer.memory.graph) is its events
(one per step a thread ran, or the step it is blocked at), reads-from and
coherence. Whether a graph is an execution of a machine is a question put to
the memory model: here, operationally (explorer.memory.machine: is there an
order of its issue and store-visibility points that the machine allows?),
which is the census's yardstick; the execution-graph strategy asks the same
question of axioms over the graph: explorer.memory.sc (SC, the accesses one by
one or the steps atomic) and explorer.memory.weak (TSO and PSO: issue and
visibility points, acyclic). LKMM plugs in beside them as another predicate
over the same graphs (issue 14); unlike these it allows po|rf cycles (load
buffering), so the strategy's revisits must then allow them too.
"""

from __future__ import annotations

GRAPH_MEMORY_MODELS = ("sc", "tso", "pso")
