"""`explorer check | prove | ci | list | replay | graph | bench`: a thin layer over explorer.api.

Exit codes: 0 every property holds (exhaustively), 1 a violation was found,
2 bad input or a model error, 3 incomplete (a budget ran out; for prove, a
bound below the longest execution).
`replay`: 1 the violation reproduces, 0 the schedule ran to its end without
one, 2 a bad schedule file or one the model no longer fits.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import traceback
from collections.abc import Sequence

from . import api
from .args import EXIT_BAD_INPUT, OneLineParser, positive_float, positive_int
from .catalog import load
from .evidence import report, schedule
from .lang.family import BadInput, parse_settings
from .lang.model import ModelError
from .search import DEFAULT_STRATEGY, STRATEGIES, checkpoint
from .search.budget import Budget
from .search.result import VIOLATED


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="a model's name (see `explorer list`; default: "
                   "guest_memfd), a file model.py or a module package.module defining FAMILY "
                   "and PROPERTIES (README: Model your own protocol)")
    p.add_argument("--scenario", help="named scenario (see `explorer list`)")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario parameter (repeatable; see `list --params`)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="explorer", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    c = sub.add_parser("check", help="explore every interleaving and check the properties")
    _add_model_args(c)
    c.add_argument("--mutant", help="check a deliberately broken variant of the model")
    c.add_argument("--property", dest="properties", action="append", metavar="NAME",
                   help="check only this property (repeatable; deadlock-freedom is always "
                   "checked)")
    c.add_argument("--strategy", default=DEFAULT_STRATEGY, choices=list(STRATEGIES),
                   help=f"search strategy (default: {DEFAULT_STRATEGY})")
    c.add_argument("--memory-model", default="sc", choices=list(api.MEMORY_MODELS))
    c.add_argument("--srcu", default="abstract", help="SRCU model (default: abstract)")
    c.add_argument("--max-executions", type=positive_int, metavar="N",
                   help="stop after N executions (the verdict is then incomplete); with "
                   "--resume, counted over the whole run, earlier segments included")
    c.add_argument("--timeout", type=positive_float, metavar="S",
                   help="stop after S seconds (the verdict is then incomplete); with "
                   "--resume, counted over the whole run, earlier segments included")
    c.add_argument("--max-steps", type=positive_int, default=Budget.max_steps, metavar="N",
                   help="steps one thread may take in one execution before it counts as "
                   f"never finishing (default: {Budget.max_steps})")
    c.add_argument("--seed", type=int, default=0, help="seed of the random strategy")
    c.add_argument("--symmetry", action="store_true",
                   help="threads that run the same operations with the same arguments are "
                   "interchangeable: one graph per orbit (graph), states cached up to "
                   "swapping them (stateful)")
    c.add_argument("--explain", action="store_true",
                   help="on a violation, name the races whose order decided it")
    c.add_argument("--graph", metavar="FILE",
                   help="on a violation, write its graph (.dot .graphml .json .svg .html)")
    c.add_argument("--force", action="store_true",
                   help="let --graph or --checkpoint overwrite an existing file")
    c.add_argument("--checkpoint", metavar="FILE",
                   help="save the search state (JSON) to FILE every --checkpoint-every "
                   "seconds and when stopped (SIGINT, SIGTERM, --timeout, --max-executions: "
                   "exit 3); continue with --resume FILE; removed once the run completes "
                   f"(strategies {', '.join(checkpoint.RESUMABLE)})")
    c.add_argument("--checkpoint-every", type=positive_float, metavar="S",
                   help="seconds from the end of one save to the next (default: "
                   f"{checkpoint.DEFAULT_EVERY:g})")
    c.add_argument("--resume", metavar="FILE",
                   help="continue the run a checkpoint saved, without exploring again what "
                   "it explored; model and options must be the run's; saves to FILE "
                   "again unless --checkpoint names another")
    c.add_argument("--cross-check", action="store_true",
                   help="then rerun with an independent strategy (stateful; optimal for "
                   "--strategy stateful or graph), same budget: a holds/violated "
                   "disagreement is an internal error (exit 2); a rerun out of budget leaves "
                   "holds unconfirmed (exit 3)")
    c.add_argument("--json", action="store_true", help="print one JSON object instead")
    c.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    out = c.add_mutually_exclusive_group()
    out.add_argument("--schedule-out", metavar="FILE",
                     help="on a violation write the schedule file exactly here (never "
                     "overwrites; default: counterexamples/<model>-<scenario>-<mutant>.json)")
    out.add_argument("--no-schedule", action="store_true",
                     help="do not write a schedule file on a violation")

    pv = sub.add_parser("prove", help="bounded model checking in z3 (same model), or a "
                        "named proof about the model's data (--spec)")
    _add_model_args(pv)
    pv.add_argument("--mutant", help="prove a deliberately broken variant of the model")
    pv.add_argument("--memory-model", default="sc", choices=list(api.MEMORY_MODELS))
    pv.add_argument("--srcu", default="abstract", help="SRCU model (default: abstract)")
    pv.add_argument("--bound", type=positive_int, metavar="K",
                    help="events per run (default: the longest execution, then the result "
                    "is complete; smaller: incomplete, exit 3)")
    pv.add_argument("--spec", metavar="NAME",
                    help="run a named proof spec instead (see `explorer list`)")
    pv.add_argument("--json", action="store_true", help="print one JSON object instead")
    pv.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="say each phase (encoding, each property's z3 query, with the bound) "
                    "on stderr as it starts (default: when stderr is a terminal)")
    pout = pv.add_mutually_exclusive_group()
    pout.add_argument("--schedule-out", metavar="FILE",
                      help="on a violation write the schedule file exactly here")
    pout.add_argument("--no-schedule", action="store_true",
                      help="do not write a schedule file on a violation")

    g = sub.add_parser("graph", help="write the execution graph of a schedule file")
    g.add_argument("file", help="schedule file (see check --schedule-out)")
    g.add_argument("--out", required=True, metavar="FILE",
                   help="output: .dot, .graphml, .json (node-link), .svg or .html")
    g.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    rp = sub.add_parser("replay", help="re-execute a schedule file written by check")
    rp.add_argument("file", help="schedule file (see check --schedule-out)")
    rp.add_argument("--json", action="store_true", help="print one JSON object instead")

    ls = sub.add_parser("list", help="models, scenarios, mutants, properties (and parameters)")
    _add_model_args(ls)
    ls.add_argument("--params", action="store_true",
                    help="show every parameter of the scenario with its value")

    _add_ci(sub)

    b = sub.add_parser("bench", help="measure every strategy; write reports/bench.{json,md,png}")
    b.add_argument("--repeats", type=positive_int, default=3, help="runs per measurement")
    b.add_argument("--quick", action="store_true", help="small cases, one run each")
    b.add_argument("--out", default="reports", help="output directory (default: reports)")
    return parser


def _print(outcome: api.Outcome, as_json: bool, path: str | None, written: bool,
           resume: dict[str, str | None] | None = None) -> None:
    """`resume`: with --checkpoint/--resume, the "checkpoint" JSON key (null once the
    run is complete)."""
    try:
        if as_json:
            if resume is None:
                print(report.dumps(outcome, path))
            else:
                doc = report.to_json(outcome, path)
                doc["checkpoint"] = resume if resume["file"] else None
                print(json.dumps(doc, indent=2))
            return
        print(report.text(outcome))
        if path is not None and written:
            print(f"\nschedule: {path} (replay with: explorer replay {shlex.quote(path)})")
        if resume is not None and resume["file"]:
            print(f"\ncheckpoint: {resume['file']}\ncontinue with: {resume['command']}")
        sys.stdout.flush()
    except BrokenPipeError:  # `explorer check | head`: keep going, keep the exit code
        _quiet_stdout()


def _quiet_stdout() -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _checkpoint_plan(args: argparse.Namespace) -> checkpoint.Plan | None:
    """--checkpoint/--resume, checked before the search as every output path is."""
    path = args.checkpoint or args.resume
    if path is None:
        if args.checkpoint_every is not None:
            raise BadInput("--checkpoint-every needs --checkpoint or --resume")
        return None
    checkpoint.check_output(path, args.force, args.resume)
    every = args.checkpoint_every or checkpoint.DEFAULT_EVERY
    return checkpoint.Plan(path, every, args.resume)


def _resume_command(args: argparse.Namespace, path: str) -> str:
    """The command that continues this run: its model and search options."""
    words = ["explorer", "check"] + ([args.model] if args.model else [])
    if args.scenario:
        words += ["--scenario", args.scenario]
    for setting in args.settings:
        words += ["--set", setting]
    if args.mutant:
        words += ["--mutant", args.mutant]
    if args.strategy != DEFAULT_STRATEGY:
        words += ["--strategy", args.strategy]
    if args.memory_model != "sc":
        words += ["--memory-model", args.memory_model]
    if args.srcu != "abstract":
        words += ["--srcu", args.srcu]
    if args.max_steps != Budget.max_steps:
        words += ["--max-steps", str(args.max_steps)]
    words += ["--resume", path]
    if args.checkpoint_every is not None:
        words += ["--checkpoint-every", f"{args.checkpoint_every:g}"]
    return shlex.join(words)


def cmd_check(args: argparse.Namespace) -> int:
    schedule.refuse_existing(args.schedule_out)
    if args.graph:
        from .evidence import graph  # networkx: only when a graph is asked for

        graph.check_output(args.graph, args.force)
    plan = _checkpoint_plan(args)
    budget = Budget(args.max_executions, args.timeout, args.max_steps, args.seed,
                    args.symmetry)
    progress = False if args.json and args.progress is None else args.progress
    outcome = api.check(
        args.model, args.scenario, parse_settings(args.settings), args.mutant,
        args.strategy, budget, args.srcu, args.memory_model, progress,
        explain=args.explain, cross_check=args.cross_check, properties=args.properties,
        checkpoint=plan,
    )
    resume = None
    if plan is not None:
        saved = outcome.result.checkpoint
        resume = {"file": saved, "command": _resume_command(args, saved) if saved else None}
    if outcome.cross is not None and outcome.cross.agree is False:
        # Never a verdict: one of the two strategies is wrong, so neither is believed.
        reason = outcome.result.reason.removeprefix("internal: ")
        print(f"explorer: internal error: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # A side file that cannot be written costs one line on stderr, never the verdict
    # (printed first) or its exit code.
    path = None
    unsaved = ""
    if outcome.result.verdict == VIOLATED and not args.no_schedule:
        try:
            path = schedule.save_violation(outcome, args.schedule_out)
        except BadInput as err:
            unsaved = f"explorer: no schedule file written: {err}"
    _print(outcome, args.json, path, True, resume)
    if unsaved:
        print(unsaved, file=sys.stderr)
    if args.graph and outcome.result.verdict == VIOLATED:
        try:
            graph.export(graph.from_outcome(outcome), args.graph)
        except (BadInput, OSError) as err:
            why = getattr(err, "strerror", None) or err
            print(f"explorer: no graph written to {args.graph}: {why}", file=sys.stderr)
        else:
            print(f"graph: {args.graph}", file=sys.stderr if args.json else sys.stdout)
    elif args.graph:
        print(f"explorer: no violation, so no graph written to {args.graph}", file=sys.stderr)
    return outcome.exit_code


def cmd_graph(args: argparse.Namespace) -> int:
    from .evidence import graph

    graph.check_output(args.out, args.force)
    sf = api.load_schedule(args.file)
    try:
        outcome = api.replay_schedule(sf)
    except ModelError as err:
        raise BadInput(f"{args.file}: {err}") from None
    if outcome.program is None or outcome.result.schedule is None:
        raise BadInput(f"{args.file}: the schedule does not run")
    g = graph.execution_graph(outcome.program, outcome.result.schedule, outcome.result.failure)
    graph.export(g, args.out)
    print(f"graph: {args.out} ({g.number_of_nodes()} nodes, {g.number_of_edges()} edges)")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    sf = api.load_schedule(args.file)
    try:
        outcome = api.replay_schedule(sf)
    except ModelError as err:
        raise BadInput(f"{args.file}: {err}") from None
    _print(outcome, args.json, args.file, False)
    return outcome.result.exit_code


def cmd_list(args: argparse.Namespace) -> int:
    cat = load()
    if args.params:
        entry = cat.get(args.model)
        fam = entry.family
        sc = fam.scenario(args.scenario)
        values = fam.resolve(sc, parse_settings(args.settings))
        print(f"parameters of {fam.name}, scenario {sc.name} (change with --set KEY=VALUE):")
        for p in fam.params({**sc.settings, **parse_settings(args.settings)}):
            v = values[p.key]
            shown = ",".join(v) if isinstance(v, tuple) else str(v)
            print(f"  {p.key:<22} = {shown:<12} {p.doc} [{p.describe()}]")
        return 0
    entries = [cat.get(args.model)] if args.model else list(cat.entries)
    for e in entries:
        fam = e.family
        default = " (default)" if fam.name == cat.default else ""
        print(f"model {fam.name}{default}: {fam.description}")
        print("  scenarios:")
        for s in fam.scenarios:
            print(f"    {s.name:<24} {s.description}")
        print("  mutants:")
        for m in fam.mutants or ():
            print(f"    {m.name:<24} {m.description}")
        if not fam.mutants:
            print("    (none)")
        print("  properties:")
        for prop in e.properties:
            print(f"    {prop.name:<24} {prop.description}")
        print(f"    {'deadlock-free':<24} every thread returns: no state where some thread is "
              "unfinished and none can move")
        srcu = f"SRCU models: {', '.join(fam.srcu_models)}; " if fam.has_srcu() else ""
        print(f"  {srcu}memory models: {', '.join(api.MEMORY_MODELS)}")
        print()
    if cat.proofs:
        print("proof specs (explorer prove --spec NAME):")
        for pr in cat.proofs:
            print(f"  {pr.name:<26} {pr.description}")
        print()
    print("strategies:")
    for name, (doc, _) in STRATEGIES.items():
        print(f"  {name:<26} {doc}")
    return 0


def _add_ci(sub: argparse._SubParsersAction) -> None:
    # Here, not in ci.py: the gate's modules load only when `ci` runs (start-up time).
    p = sub.add_parser("ci", help="run suites (TOML) and gate on their expected verdicts")
    p.add_argument("suites", nargs="*", metavar="SUITE",
                   help="suite files (default: specs/ci.toml)")
    p.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                   help="worker processes (default: 1)")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    p.add_argument("--sarif", metavar="FILE", help="write a SARIF 2.1.0 log of the findings")
    p.add_argument("--json", dest="json_out", metavar="FILE", help="write a JSON report")
    p.add_argument("--markdown", metavar="FILE",
                   help="write a markdown summary (fits $GITHUB_STEP_SUMMARY; appended to "
                   "when FILE is that file)")
    p.add_argument("--artifacts", metavar="DIR",
                   help="write each finding's schedule file and HTML graph into DIR")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--quiet", action="store_true", help="print only failing checks and "
                   "the summary")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "prove":
            from .prove_cli import cmd_prove  # z3 loads only for prove

            return cmd_prove(args)
        if args.command == "replay":
            return cmd_replay(args)
        if args.command == "graph":
            return cmd_graph(args)
        if args.command == "ci":
            from . import ci

            return ci.cmd_ci(args)
        if args.command == "bench":
            from .tools import bench

            extra = ["--quick"] if args.quick else []
            return bench.main(["--repeats", str(args.repeats), "--out", args.out, *extra])
        return cmd_list(args)
    except BadInput as err:
        print(f"explorer: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModelError as err:
        print(f"explorer: model error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("explorer: interrupted (nothing proved)", file=sys.stderr)
        return 3
    except BrokenPipeError:  # `explorer list | head`: the reader has seen enough
        _quiet_stdout()
        return 0
    except Exception as err:  # a bug in the tool, not the user's input
        if os.environ.get("EXPLORER_DEBUG"):
            traceback.print_exc()
        print(f"explorer: internal error: {type(err).__name__}: {err} "
              "(set EXPLORER_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
