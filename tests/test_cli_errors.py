"""Bad input: exit status 2, one line on stderr, no traceback."""

from __future__ import annotations

import pytest

EXIT_BAD_INPUT = 2

# (argv, a fragment the message must contain so the user knows what was wrong)
CASES = [
    (["check", "no_such_model"], "no_such_model"),
    (["check", "--scenario", "no-such-scenario"], "no-such-scenario"),
    (["check", "--mutant", "no-such-mutant"], "no-such-mutant"),
    (["check", "--set", "no_such_key=1"], "no_such_key"),
    (["check", "--set", "pages=-1"], "pages"),
    (["check", "--set", "pages=abc"], "abc"),
    (["check", "--set", "nokeyvalue"], "nokeyvalue"),
    (["check", "--max-executions", "-1"], "--max-executions"),
    (["check", "--max-executions", "0"], "--max-executions"),
    (["check", "--timeout", "-3"], "--timeout"),
    (["check", "--timeout", "abc"], "--timeout"),
    (["check", "--max-steps", "0"], "--max-steps"),
    (["check", "--strategy", "bogus"], "bogus"),
    (["check", "--set", "fallocate.0.mode=bogus"], "fallocate.0.mode"),
    (["check", "--set", "present=9"], "9"),
    (["list", "--params", "--set", "get_folio=99"], "get_folio"),
]


@pytest.mark.parametrize(("argv", "needle"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_line_exit_2(run_cli, argv, needle):
    p = run_cli(*argv)
    assert p.returncode == EXIT_BAD_INPUT, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].strip()
    assert needle in lines[0]
    assert "error" in lines[0]
    assert p.stdout == ""
    assert "Traceback" not in p.stdout + p.stderr


@pytest.mark.parametrize(
    "argv",
    [["list"], ["list", "--params"], ["list", "--params", "--set", "get_folio=3"]],
)
def test_good_list_commands_succeed(run_cli, argv):
    """Control: the same CLI exits 0 with a clean stderr when the input is fine."""
    p = run_cli(*argv)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert p.stdout.strip()
    if "--set" in argv:
        assert "get_folio.2.page" in p.stdout
