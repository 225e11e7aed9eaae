"""genosynth: artificial human genomes from generative neural networks (Yelmen et al. 2021), as a library.

Read haplotypes, train a generator, sample artificial genomes, judge them; every result is a typed object with
``to_dict()``, ``write(folder)`` and a notebook view, and every output carries provenance::

    import genosynth
    train = genosynth.read_haplotypes("train.h5")
    holdout = genosynth.read_haplotypes("holdout.h5")
    model = genosynth.train_rbm(train, epochs=100, seed=1)
    artificial = model.sample(1000, seed=1)
    report = genosynth.evaluate(train, {"rbm": artificial}, holdout=holdout, seed=1)
    privacy = genosynth.check_privacy(train, holdout, artificial, max_privacy_loss=0.05)
    genosynth.write_haplotypes(artificial, "rbm_ag.vcf.gz")

The command line (``genosynth STEP``) is a thin layer over these functions.
"""

__version__ = "0.2.0"

from genosynth._infra.errors import GateFailed, InputError, OptionError  # noqa: E402
from genosynth.assess.fidelity import FidelityReport, evaluate  # noqa: E402
from genosynth.assess.privacy import PrivacyReport, check_privacy  # noqa: E402
from genosynth.downstream.imputation.impute import ImputationReport, impute_augment  # noqa: E402
from genosynth.downstream.selection.cnn import CnnScanOptions  # noqa: E402
from genosynth.downstream.selection.network import load_selection_network  # noqa: E402
from genosynth.downstream.selection.scan import SelectionReport, selection_scan  # noqa: E402
from genosynth.downstream.selection.sweeps import SweepSettings  # noqa: E402
from genosynth.generate.chain import sample_chain, write_chain  # noqa: E402
from genosynth.generate.models.baselines import sample_baseline  # noqa: E402
from genosynth.generate.trained import Model, ModelHeader, load_model, read_model_header  # noqa: E402
from genosynth.generate.training import TrainingOptions, train_diffusion, train_gan, train_rbm  # noqa: E402
from genosynth.io import HaplotypeWriter, read_haplotypes, write_haplotypes  # noqa: E402
from genosynth.io.holdout import split_holdout  # noqa: E402
from genosynth.io.matrix import HaplotypeMatrix, Sites  # noqa: E402
from genosynth.io.regions import Region  # noqa: E402
from genosynth.io.windows import Window, split_window  # noqa: E402

__all__ = [
    "CnnScanOptions",
    "FidelityReport",
    "GateFailed",
    "HaplotypeMatrix",
    "HaplotypeWriter",
    "ImputationReport",
    "InputError",
    "Model",
    "ModelHeader",
    "OptionError",
    "PrivacyReport",
    "Region",
    "SelectionReport",
    "Sites",
    "SweepSettings",
    "TrainingOptions",
    "Window",
    "check_privacy",
    "evaluate",
    "impute_augment",
    "load_model",
    "load_selection_network",
    "read_haplotypes",
    "read_model_header",
    "sample_baseline",
    "sample_chain",
    "selection_scan",
    "split_holdout",
    "split_window",
    "train_diffusion",
    "train_gan",
    "train_rbm",
    "write_chain",
    "write_haplotypes",
]
