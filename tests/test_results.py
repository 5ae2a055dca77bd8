"""Saved benchmark results are read and written one way (cgen_lessons.results)."""

import json
import re
from pathlib import Path

import pytest

from cgen_lessons import results

BENCHMARKS = Path(results.ROOT) / "benchmarks"


def test_every_saved_result_names_a_benchmark_that_writes_it_with_save():
    files = sorted(results.RESULTS.glob("*.json"))
    assert files
    for f in files:
        script = results.ROOT / results.producer(f)
        assert script.is_file(), f"{f.name}: {script} does not exist"
        assert "save_result(" in script.read_text(), f"{script.name} does not write through results.save"


def test_every_benchmark_writes_through_results_save():
    for script in sorted(BENCHMARKS.glob("*.py")):
        text = script.read_text()
        assert "save_result(" in text and "write_text(json.dumps" not in text, script.name


def test_chapters_read_results_through_load():
    for source in sorted((results.ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        assert not re.search(r"benchmarks\W+results\W+\w+\.json\W*\)?\.read_text", source.read_text()), source.name


def test_missing_result_says_which_benchmark_regenerates_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"benchmarks/g2p\.py --out"):
        results.load(tmp_path / "g2p.json")
    with pytest.raises(ValueError, match="no benchmark is known"):
        results.load(tmp_path / "no_such_thing.json")
    with pytest.raises(ValueError, match="file stem"):
        results.path("two words")


def test_save_records_config_commit_and_versions_and_load_reads_it_back(tmp_path):
    target = tmp_path / "g2p.json"
    written = results.save(target, {"per": 0.25}, config={"steps": 3, "out": tmp_path})
    assert written == target and not target.with_suffix(".json.tmp").exists()
    data = results.load(target)
    assert data["per"] == 0.25
    assert data["_meta"]["config"]["steps"] == 3 and data["_meta"]["torch"]
    assert set(data["_meta"]) == {"config", "commit", "torch", "python", "date"}
    target.write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match="JSON object"):
        results.load(target)


def test_load_works_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "runs" in results.load("lm_lr_sweep")


def test_save_stores_numpy_and_tensor_scalars_as_numbers_and_rejects_other_objects(tmp_path):
    import numpy as np
    import torch

    data = results.load(results.save(tmp_path / "s.json", {"a": np.float32(0.5), "b": torch.tensor(3)}))
    assert data["a"] == 0.5 and data["b"] == 3
    with pytest.raises(TypeError, match="cannot store Tensor"):
        results.save(tmp_path / "t.json", {"c": torch.ones(2)})
