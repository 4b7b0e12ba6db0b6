"""`explorer check --json`: one object with every documented key, consistent with the API."""

from __future__ import annotations

import json
import re

import pytest

from explorer.evidence import report
from explorer.search.result import EXIT_CODES, HOLDS, VIOLATED


def _keys(text: str) -> list[str]:
    text = re.sub(r"\([^()]*\)", "", text)  # (explanations)
    text = re.sub(r"\{[^{}]*\}", "", text)  # {shapes}
    items = (item.strip().rstrip(".").strip() for item in text.replace("\n", " ").split(","))
    return [item for item in items if item]


def documented_keys() -> tuple[list[str], list[str]]:
    doc = report.__doc__ or ""
    top = doc.split("JSON keys", 1)[1].split(":", 1)[1]
    top, step = top.split("A trace step:", 1)
    step = step.split(".\n", 1)[0]
    return _keys(top), _keys(step)


TOP_KEYS, STEP_KEYS = documented_keys()


def test_docstring_parsed():
    for k in ("schema", "verdict", "complete", "property", "parameters", "trace", "schedule"):
        assert k in TOP_KEYS
    for k in ("index", "event", "thread", "reads", "writes", "locals", "chosen", "fused"):
        assert k in STEP_KEYS
    assert all(re.fullmatch(r"[a-z_]+", k) for k in TOP_KEYS + STEP_KEYS), TOP_KEYS + STEP_KEYS
    assert len(TOP_KEYS) == len(set(TOP_KEYS)) and len(STEP_KEYS) == len(set(STEP_KEYS))


ARGS = [[], ["--mutant", "no-synchronize"]]


@pytest.fixture(scope="module", params=ARGS, ids=["unmutated", "no-synchronize"])
def json_run(request, run_cli):
    p = run_cli("check", "--json", *request.param)
    return request.param, p


def test_one_object_with_every_key(json_run):
    _, p = json_run
    assert p.stderr == ""
    doc = json.loads(p.stdout)  # the whole of stdout is one JSON value
    assert isinstance(doc, dict)
    missing = [k for k in TOP_KEYS if k not in doc]
    assert not missing
    assert doc["schema"] == report.SCHEMA
    assert doc["tool"].startswith("explorer")


def test_verdict_exit_code_and_shape_agree(json_run, run_check):
    args, p = json_run
    doc = json.loads(p.stdout)
    assert p.returncode == EXIT_CODES[doc["verdict"]]
    assert doc["complete"] is (doc["verdict"] in (HOLDS, VIOLATED))
    mutant = args[1] if args else None
    assert doc["mutant"] == mutant
    # the JSON is the API's outcome (same strategy), not a run with other settings
    o = run_check(mutant=mutant, strategy=doc["strategy"])
    assert doc["strategy"] == o.result.strategy
    r = o.result
    assert doc["verdict"] == r.verdict
    assert doc["model"] == o.setup.model and doc["scenario"] == o.setup.scenario
    for key in ("executions", "schedules", "states", "events"):
        assert doc[key] == getattr(r.stats, key)
    assert doc["properties_checked"] == r.properties
    if doc["verdict"] == VIOLATED:
        assert doc["property"]["name"] == r.failure.name
        assert doc["property"]["name"] in doc["properties_checked"]
        assert doc["schedule"] == [list(x) for x in r.schedule]
        assert isinstance(doc["trace"], list) and doc["trace"]
    else:
        assert doc["property"] is None
        assert doc["trace"] is None and doc["schedule"] is None


def test_parameters(json_run, run_check):
    args, p = json_run
    doc = json.loads(p.stdout)
    params = doc["parameters"]
    assert "get_folio" in params
    assert "fallocate.0.mode" in params
    o = run_check(mutant=args[1] if args else None, strategy=doc["strategy"])
    assert params["get_folio"] == o.setup.values["get_folio"]
    assert params["fallocate.0.mode"] == o.setup.values["fallocate.0.mode"]
    assert sum(t.name.startswith("get_folio") for t in o.program.threads) == params["get_folio"]


def test_trace_steps(json_run, run_check):
    args, p = json_run
    doc = json.loads(p.stdout)
    if doc["verdict"] != VIOLATED:
        assert doc["trace"] is None
        return
    o = run_check(mutant=args[1], strategy=doc["strategy"])
    trace = doc["trace"]
    assert len(trace) == len(o.trace)
    event = 0
    for i, (step, rec) in enumerate(zip(trace, o.trace, strict=True), 1):
        missing = [k for k in STEP_KEYS if k not in step]
        assert not missing, f"step {i} lacks {missing}"
        assert step["index"] == i
        assert isinstance(step["fused"], bool)
        event += 0 if step["fused"] else 1
        assert step["event"] == event
        assert step["thread"] == rec.thread_name
        assert step["step"] == rec.label
        assert step["line"] == rec.line
        assert step["writes"] == dict(rec.writes)
        for key in ("reads", "writes", "locals"):
            assert isinstance(step[key], dict)
    assert event == len(doc["schedule"])
    # a schedule entry is [thread index, choice or null]
    for thread, choice in doc["schedule"]:
        assert 0 <= thread < len(o.program.threads)
        assert choice is None or isinstance(choice, int)
