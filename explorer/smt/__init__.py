"""The same models in z3: bounded model checking and symbolic data.

`terms` translates the expression language to 64-bit bit-vector terms,
`encode` unrolls a compiled Program into a BMC formula, `bound` computes the
longest execution from the threads' control-flow graphs, and `prove` runs the
check and confirms every counterexample in the concrete explorer.
"""
