"""bench/chromosome_recipe.py in its tiny mode, as CI runs it so that the chromosome benchmark never rots: each
section measures toy data and writes its part of the result file, and the documentation page is rendered from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench" / "chromosome_recipe.py"


def _bench(*args: object) -> None:
    run = subprocess.run([sys.executable, str(BENCH), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("chromosome_bench")
    result = folder / "tiny.json"
    common = ("--tiny", "--data-dir", folder / "data", "-o", result)
    _bench("recipe", "--dataset", "chr22", "--seeds", 1, 2, *common)
    _bench("recipe", "--dataset", "805", "--seeds", 1, *common)
    _bench("frontier", "--seeds", 1, *common)
    _bench("scale", "--matrix", folder / "data" / "chr22_tiny" / "train.h5", *common)  # the simulation above
    docs = folder / "docs"
    _bench("render", result, "--docs", docs)
    return {"result": json.loads(result.read_text()), "page": (docs / "chromosomes.md").read_text(), "docs": docs}


def test_every_section_is_written_with_its_command(tiny):
    result = tiny["result"]
    assert result["tiny"] is True and result["schema_version"] == 1
    assert set(result["sections"]) == {"recipe_chr22", "recipe_805", "frontier", "scale"}
    assert all(section["command"].startswith("bench/chromosome_recipe.py") for section in result["sections"].values())


def test_the_recipe_is_judged_against_every_target_at_each_seed(tiny):
    runs = tiny["result"]["sections"]["recipe_chr22"]["runs"]
    assert [run["seed"] for run in runs] == [1, 2]
    for run in runs:
        assert set(run["targets"]) == {
            "af_r",
            "ld_r",
            "ld_strength",
            "boundary",
            "w2d",
            "aa",
            "privacy",
            "copies",
            "time",
        }
        # the mosaic copies real haplotypes: frequencies follow the training set's even on toy data
        assert run["mosaic"]["af_r"] > 0.9 and run["targets"]["af_r"] is (run["mosaic"]["af_r"] >= 0.99)
        assert run["holdout"]["n_haplotypes"] > 0 and 0 <= run["mosaic"]["aa_truth"] <= 1
    assert runs[0]["mosaic"] != runs[1]["mosaic"]  # each seed its own draw


def test_the_frontier_moves_with_the_knob(tiny):
    points = tiny["result"]["sections"]["frontier"]["points"]
    knobs = [point["max_segment_cm"] for point in points]
    assert knobs[-1] is None and knobs[:-1] == sorted(knobs[:-1])
    copies = [point["mosaic"]["exact_copies"] for point in points]
    # unbounded copying repeats whole training haplotypes; the shortest bound none or few
    assert copies[-1] > copies[0]


def test_the_chain_is_streamed_window_by_window(tiny):
    scale = tiny["result"]["sections"]["scale"]
    for output in ("vcf.gz", "hapt"):
        rows = [row for row in scale["rows"] if row["output"] == output]
        assert len(rows) == scale["windows"] >= 2
        assert all(row["rss_mib"] > 0 for row in rows)
        assert scale["outputs"][output]["bytes"] > 0


def test_the_page_is_rendered_from_the_result(tiny):
    page, result = tiny["page"], tiny["result"]
    assert "Toy sizes" in page and "do not edit" in page
    seed_one = result["sections"]["recipe_chr22"]["runs"][0]["mosaic"]
    assert f"| 1 | mosaic | {seed_one['af_r']:.4f} |" in page
    for heading in ("The recipe on the 5.5 Mb", "The recipe on the 805 SNPs", "frontier", "chromosome-sized chain"):
        assert heading in page
    assert "Projected" in page and "| GPUs | 1 | 8 | 64 |" in page
    for image in ("chromosome-frontier.png", "chromosome-memory.png"):
        assert f"]({image})" in page and (tiny["docs"] / image).stat().st_size > 1000
