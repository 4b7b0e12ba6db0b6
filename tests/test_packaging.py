"""What `pip install` puts into site-packages: `explorer` and nothing else (models/ and
specs/ install as explorer.models and explorer.specs), with every package listed."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from common import ROOT

CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_of_the_repository_is_listed():
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "explorer").rglob("__init__.py")}
    found |= {"explorer.models", "explorer.specs"}
    assert set(CONFIG["packages"]) == found
    assert CONFIG["package-dir"]["explorer.models"] == "models"
    assert CONFIG["package-dir"]["explorer.specs"] == "specs"


def test_the_wheel_installs_only_explorer(tmp_path: Path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                        str(tmp_path), str(ROOT)], capture_output=True, text=True,
                       timeout=600, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"explorer"}
    assert "explorer/models/guest_memfd.py" in names
    assert "explorer/specs/catalog.py" in names
    assert "explorer/evidence/static/graph.js" in names
    meta = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(meta[0]).decode()
    assert "explorer = explorer.cli:main" in text
    assert "explorer = explorer.gate.pytest_plugin" in text
