"""`netsot demo` and an earlier lab in its folder: kept (with the user's config edits) unless --fresh, and
`lab up` without --sites runs as many sites as the lab last did (the tour continues the demo's lab)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.lab import LabError, last_sites
from providers.lab.demo import _prepare_folder, how_to_run
from providers.lab.runner import Paths


def _earlier_lab(root: Path) -> Path:
    (root / "seeds").mkdir(parents=True)
    config = root / "netsot.yaml"
    config.write_text("version: 1\nhosts:\n  - {name: mine, network: lan}\n")
    (root / "netsot.state.json").write_text("{}")
    return config


def test_an_earlier_lab_and_its_edited_config_are_kept_and_the_way_to_start_afresh_is_said(tmp_path):
    config = _earlier_lab(tmp_path / "lab")
    said: list[str] = []
    assert _prepare_folder(tmp_path / "lab", said.append, fresh=False) is True
    assert "name: mine" in config.read_text() and (tmp_path / "lab" / "netsot.state.json").exists()
    text = " ".join(" ".join(said).split())  # the lines are wrapped to the terminal (a long path moves them)
    assert "the demo keeps it" in text and "make demo FRESH=1 (netsot demo --fresh)" in text


def test_fresh_removes_the_earlier_lab(tmp_path):
    _earlier_lab(tmp_path / "lab")
    said: list[str] = []
    assert _prepare_folder(tmp_path / "lab", said.append, fresh=True) is False
    assert not (tmp_path / "lab").exists()
    assert "(--fresh)" in " ".join(said)


def test_a_folder_that_is_not_a_lab_is_never_touched(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(LabError, match="is not a lab folder"):
        _prepare_folder(tmp_path, print, fresh=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert _prepare_folder(tmp_path / "new", print, fresh=False) is False


def test_lab_up_remembers_how_many_sites_the_lab_ran(tmp_path):
    paths = Paths(tmp_path)
    assert last_sites(paths) is None
    (tmp_path / ".netsot-yaml-written.json").write_text(json.dumps({"sha256": "x", "ports": {}, "sites": 2}))
    assert last_sites(paths) == 2
    (tmp_path / ".netsot-yaml-written.json").write_text(json.dumps({"sha256": "x", "ports": {}}))
    assert last_sites(paths) is None


def test_the_demos_last_lines_say_lab_up_resumes_its_sites():
    lines = how_to_run(2)  # the venv has the console script (make setup)
    assert any(line.startswith("  netsot lab up ") and "resumes where the demo stopped: 2 sites" in line
               for line in lines), lines
