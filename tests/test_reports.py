"""Reports as a notebook shows them: drawing one never switches the user's matplotlib backend nor leaves pyplot
figures open (checked in a fresh Python, as a notebook kernel starts), and evaluate's table reads across sets."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

NOTEBOOK = """
import matplotlib
matplotlib.use("svg")                       # the user's choice, as %matplotlib inline sets its own
import matplotlib.pyplot as plt
import numpy as np
import genosynth
from genosynth.datasets import data_805
data = data_805()
real = genosynth.read_haplotypes(data.hapt, legend=data.legend).select_sites(np.arange(80))
order = np.random.default_rng(1).permutation(len(real.samples))
train, holdout, other = (real.select_samples(np.sort(order[a:b])) for a, b in ((0, 300), (300, 400), (400, 500)))
report = genosynth.evaluate(train, {"other": other}, holdout=holdout, triplets=200, seed=1, progress=False)
shown = report._repr_html_()
privacy = genosynth.check_privacy(train, holdout, other, seed=1, progress=False)._repr_html_()
print(matplotlib.get_backend(), len(plt.get_fignums()), "<img" in shown and "<img" in privacy,
      shown.count('<tr class="reference">'), "Metrics by set" in shown)
"""


def test_notebook_view_keeps_the_users_backend_and_closes_nothing_it_did_not_open():
    result = subprocess.run([sys.executable, "-c", NOTEBOOK], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["svg", "0", "True", "1", "True"], result.stdout


def test_metrics_table_marks_targets_and_reference():
    from genosynth.reports.fidelity import metrics_table

    sets = {
        "holdout": {"n_haplotypes": 100, "af_r": 0.995, "aats": 0.5, "exact_copies_of_real": 0, "boundary_ld_r": None},
        "gan": {"n_haplotypes": 500, "af_r": 0.98, "aats": 0.52, "exact_copies_of_real": 3, "boundary_ld_r": None},
    }
    table = metrics_table(sets)
    assert table.header == ["set", "haplotypes", "AF r", "AATS", "copies of real"]  # no value: no column
    assert table.reference_rows == (0,) and table.rows[0][0].text == "holdout (reference)"
    gan = {c: cell for c, cell in zip(table.header, table.rows[1])}
    assert (gan["AF r"].mark, gan["AF r"].note) == ("fail", "Δ -0.0150")  # target >= 0.99, 0.015 below the reference
    assert (gan["AATS"].mark, gan["copies of real"].mark) == ("pass", "fail")
    assert gan["haplotypes"].note == "" and "<caption>Metrics by set</caption>" in table.to_html()
    without_reference = metrics_table({"gan": sets["gan"]})
    assert without_reference.reference_rows == () and without_reference.rows[0][2].note == ""
