"""`explorer prove`: the command, over explorer.smt.prove (kept apart so z3 loads only here)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time

from .api import prove
from .catalog import load
from .evidence import report, schedule
from .lang.family import BadInput, parse_settings
from .search.result import HOLDS, INCOMPLETE, VIOLATED
from .smt.prove import Proof


def work_text(proof: Proof) -> str:
    r = proof.outcome.result
    timing = f"{proof.encode_seconds:.2f} s to encode, {proof.solve_seconds:.2f} s in z3"
    longest = proof.longest.steps
    if r.verdict == HOLDS:
        return (f"z3 finds no violation in any run of up to {proof.bound} events, the longest "
                f"execution (bounded model checking; {timing})")
    if r.verdict == INCOMPLETE:
        return f"runs of up to {proof.bound} events ({timing})"
    if r.verdict == VIOLATED:
        bound = f"bound {proof.bound}" + (" = longest execution" if longest == proof.bound
                                          else "")
        inputs = ""
        if proof.inputs:
            inputs = "; symbolic inputs: " + ", ".join(
                f"{k}={v:#x}" for k, v in proof.inputs.items())
        return (f"z3 found it ({bound}; {timing}){inputs}; replayed and confirmed in the "
                "explorer")
    return timing


def to_json(proof: Proof, path: str | None) -> dict[str, object]:
    doc = report.to_json(proof.outcome, path)
    doc.update({
        "bound": proof.bound,
        "longest_execution": proof.longest.steps,
        "inputs": proof.inputs,
        "encode_seconds": round(proof.encode_seconds, 6),
        "solve_seconds": round(proof.solve_seconds, 6),
    })
    return doc


def cmd_prove(args: argparse.Namespace) -> int:
    if args.spec:
        return _spec(args)
    schedule.refuse_existing(args.schedule_out)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    start = time.perf_counter()

    def note(text: str) -> None:
        print(f"explorer prove [{time.perf_counter() - start:6.1f} s] {text}", file=sys.stderr,
              flush=True)

    proof = prove(args.model, args.scenario, parse_settings(args.settings), args.mutant,
                  args.srcu, args.memory_model, args.bound, note if show else None)
    outcome = proof.outcome
    outcome.work = work_text(proof)
    path = None
    unsaved = ""
    if outcome.result.verdict == VIOLATED and not args.no_schedule:
        try:  # a schedule file that cannot be written never costs the verdict
            path = schedule.save_violation(outcome, args.schedule_out)
        except BadInput as err:
            unsaved = f"explorer: no schedule file written: {err}"
    if args.json:
        print(json.dumps(to_json(proof, path), indent=2))
    else:
        print(report.text(outcome))
        if path is not None:
            print(f"\nschedule: {path} (replay with: explorer replay {shlex.quote(path)})")
    if unsaved:
        print(unsaved, file=sys.stderr)
    return outcome.result.exit_code


def _spec(args: argparse.Namespace) -> int:
    given = [flag for flag, value in (("MODEL", args.model), ("--scenario", args.scenario),
                                      ("--set", args.settings), ("--mutant", args.mutant),
                                      ("--bound", args.bound)) if value]
    if given:
        raise BadInput(f"--spec {args.spec}: a proof spec defines its own model; "
                       f"drop {given[0]}")
    spec = load().proof(args.spec)
    start = time.perf_counter()
    res = spec.run()
    res.seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({"spec": spec.name, "description": spec.description,
                          "verdict": res.verdict, "lines": res.lines,
                          "evidence": res.evidence, "seconds": round(res.seconds, 3)}, indent=2))
    else:
        head = "PROVED" if res.proved else res.verdict.upper()
        print(f"spec {spec.name}: {spec.description}")
        print(f"{head} ({res.seconds:.2f} s, z3)")
        for line in res.lines:
            print(f"  {line}")
    return res.exit_code
