# Two commands for a newcomer: `make check` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: check test test-long gate tools lint bench bench-peers graph-verdicts clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's metadata changes. `make check` installs the explorer
# and what it runs on (networkx, z3-solver, tqdm, junitparser); `make test` adds the
# test and lint tools (pytest, hypothesis, jsonschema, pyyaml, pydot, ruff, mypy).
# compileall: the editable install leaves the sources uncompiled, and with
# PYTHONDONTWRITEBYTECODE every start would compile them again (3x the start-up).
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	$(BIN)/python -m compileall -q explorer models specs
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(TEST_STAMP)

check: $(STAMP)
	$(BIN)/explorer check

test: $(TEST_STAMP) tools
	$(BIN)/python -m pytest

# The slow tests (minutes): long cross-checks and the project's full gate.
test-long: $(TEST_STAMP) tools
	$(BIN)/python -m pytest -m slow

# The project's own verification gate (specs/ci.toml, every cell of reports/verdicts.md).
gate: $(STAMP)
	$(BIN)/explorer ci specs/ci.toml --jobs 2

# Debian tools some tests use: Graphviz (.svg export) and Chromium (the HTML
# graph, headless). Installed when missing and possible; otherwise those tests
# skip and say why.
tools:
	@if command -v dot >/dev/null && command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing graphviz and chromium (for the graph export tests)"; \
	  (apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get -o DPkg::Lock::Timeout=300 install -y -qq graphviz chromium >/dev/null) \
	    || echo "note: could not install them; the tests that need them skip (see the summary)"; \
	else echo "note: graphviz/chromium missing and not installable here; tests will skip"; fi

# Benchmark of every strategy (minutes): reports/bench.{json,md,png}.
bench: $(TEST_STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/explorer bench

# The explorer side by side with GenMC 0.11 and SPIN 6.5.2 on matched scenarios, one run,
# interleaved repetitions (tens of minutes): reports/peers.{json,md}. The peers live in
# ../shared/peers; its setup.sh (root) installs what they need when they cannot run.
PEERS ?= ../shared/peers
bench-peers: $(STAMP)
	@if ! command -v spin >/dev/null || ! command -v clang-14 >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then bash $(PEERS)/setup.sh; else sudo bash $(PEERS)/setup.sh; fi; fi
	$(BIN)/python -m explorer.tools.peers --peers $(PEERS) --out reports

# Random programs of every shape class (tests/langgen.py), every strategy against the
# brute-force census and the references: reports/soak.{json,md}. SOAK_PROGRAMS per
# class (10,000: hours on 2 cores; SOAK_PROGRAMS=300 takes minutes).
SOAK_PROGRAMS ?= 10000
.PHONY: soak
soak: $(TEST_STAMP)
	$(BIN)/python -m explorer.tools.soak --programs $(SOAK_PROGRAMS) --jobs 2

# The series' open questions answered by the explorer (minutes): reports/findings.md and
# the schedule files of its counterexamples in reports/findings/.
.PHONY: findings
findings: $(STAMP)
	$(BIN)/python -m explorer.tools.findings --out reports

# Every mutant x memory model x SRCU model, checked (minutes): reports/verdicts.{json,md},
# and specs/ci.toml, the gate that holds the project to them.
.PHONY: verdicts
verdicts: $(STAMP)
	$(BIN)/python -m explorer.tools.verdicts
	$(BIN)/python -m explorer.tools.ci_suite

# The verdict matrix's SC cells again with --strategy graph, beside optimal's verdicts
# (minutes): reports/graph-verdicts.{json,md}. GRAPH_MM="sc tso" adds TSO.
GRAPH_MM ?= sc
graph-verdicts: $(STAMP)
	$(BIN)/python -m explorer.tools.graph_verdicts --jobs 2 $(foreach m,$(GRAPH_MM),--memory-model $(m))

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info
