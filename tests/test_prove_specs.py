"""Patch-level proofs (explorer prove --spec) and symbolic inputs."""

from __future__ import annotations

import json

import pytest
from explorer.models.guest_memfd import EINVAL, EOPNOTSUPP, EPERM
from explorer.specs import fallocate_proof, flag_layout

from explorer.api import check, prove
from explorer.lang.family import BadInput
from explorer.search.result import HOLDS, VIOLATED


@pytest.fixture(scope="module")
def fallocate_result():
    return fallocate_proof.run()


def test_fallocate_refactor_is_proved_with_examples(fallocate_result) -> None:
    r = fallocate_result
    assert r.verdict == HOLDS, r.lines
    text = "\n".join(r.lines)
    assert "same value for every mode, offset and len" in text
    assert "returns -EPERM for every mode" in text
    # Every pre-patch result has its exact condition proved and an example from z3
    # that really gives it (checked against the conditions, in Python).
    for value in (-EOPNOTSUPP, -EINVAL, -EPERM, 0):
        ev = r.evidence[str(value)]
        assert ev["proved"] and ev["example"], ev
        ex = {k.rpartition(".")[2]: int(v, 16) for k, v in ev["example"].items()}
        assert ex["flags"] >> 63 == 1  # frozen
        mode, off, ln = ex["mode"], ex["offset"], ex["len"]
        bad_mode = not mode & 1 or mode & ~3
        misaligned = (off | ln) & 4095
        if value == -EOPNOTSUPP:
            assert bad_mode
        elif value == -EINVAL:
            assert not bad_mode and misaligned
        else:
            assert not bad_mode and not misaligned


def test_fallocate_claims_can_fail() -> None:
    """A wrong characterisation is refuted, not rubber-stamped."""
    # On a 1-page inode (fast): -EINVAL claimed for every misaligned input, even
    # with a bad mode (which gives -EOPNOTSUPP first).
    right = fallocate_proof.claims(1)
    wrong = tuple((v, t, c if v != -EINVAL else fallocate_proof.MISALIGNED) for v, t, c in right)
    r = fallocate_proof.run(pages=1, claim_set=wrong)
    assert r.verdict == VIOLATED and not r.evidence[str(-EINVAL)]["proved"]
    assert r.evidence[str(-EOPNOTSUPP)]["proved"]


def test_flag_layout_is_proved_with_sources_and_example() -> None:
    r = flag_layout.run()
    assert r.verdict == HOLDS, r.lines
    text = "\n".join(r.lines)
    assert "include/uapi/linux/kvm.h" in text and "kvm_gmem_create()" in text
    assert int(r.evidence["example_rejected"]["flags"], 16) >> 63 == 1


def test_flag_layout_would_catch_an_overlap(monkeypatch) -> None:
    monkeypatch.setitem(flag_layout.UAPI_FLAGS, "GUEST_MEMFD_FLAG_INIT_SHARED", 1 << 63)
    assert flag_layout.run().verdict == VIOLATED


def test_cli_spec_json(run_cli) -> None:
    p = run_cli("prove", "--spec", "flag-layout", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["verdict"] == "holds" and doc["spec"] == "flag-layout"


def test_cli_spec_refuses_model_options(run_cli) -> None:
    p = run_cli("prove", "--spec", "flag-layout", "--bound", "3")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1


def test_specs_are_listed(run_cli) -> None:
    p = run_cli("list")
    assert "fallocate-refactor" in p.stdout and "flag-layout" in p.stdout


# -- symbolic inputs ----------------------------------------------------------------


def test_check_refuses_a_symbolic_input() -> None:
    with pytest.raises(BadInput, match=r"fallocate\.0\.len=\? is symbolic"):
        check(scenario="small", settings={"fallocate.0.len": "?"})


def test_only_declared_inputs_can_be_symbolic() -> None:
    with pytest.raises(BadInput, match="cannot be symbolic"):
        check(settings={"pages": "?"})


def test_prove_picks_symbolic_values_and_the_replay_uses_them() -> None:
    proof = prove(scenario="small", mutant="fallocate-unchecked",
                  settings={"fallocate.0.mode": "?", "fallocate.0.offset": "?",
                            "fallocate.0.len": "4096"})
    r = proof.outcome.result
    assert r.verdict == VIOLATED
    assert set(proof.inputs) == {"fallocate.0.mode", "fallocate.0.offset"}
    values = proof.outcome.setup.values
    assert values["fallocate.0.mode"] == proof.inputs["fallocate.0.mode"]
    assert 0 <= proof.inputs["fallocate.0.offset"] <= 0  # 1 page, len 4096: offset 0 only


def test_symbolic_page_range_matches_every_concrete_choice() -> None:
    """Holding for a symbolic len means holding for each concrete one."""
    proof = prove(scenario="tiny", settings={"get_folio": "0", "fallocate": "1",
                                             "fallocate.0.mode": "allocate",
                                             "fallocate.0.len": "?"})
    assert proof.outcome.result.verdict == HOLDS and proof.complete
