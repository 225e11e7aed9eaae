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

from genosynth._infra.errors import GateFailed, InputError, OptionError
from genosynth._infra.version import __version__ as __version__
from genosynth.assess.fidelity import FidelityReport, evaluate
from genosynth.assess.privacy import PrivacyReport, check_privacy
from genosynth.downstream.demography.infer import DemographyReport, infer_demography
from genosynth.downstream.imputation.impute import ImputationReport, impute_augment
from genosynth.downstream.selection.cnn import CnnScanOptions
from genosynth.downstream.selection.network import load_selection_network
from genosynth.downstream.selection.scan import SelectionReport, selection_scan
from genosynth.downstream.selection.sweeps import SweepSettings
from genosynth.generate.chain import sample_chain, write_chain
from genosynth.generate.models.baselines import sample_baseline
from genosynth.generate.models.mosaic import MosaicOutput, MosaicSettings, sample_mosaic, write_mosaic
from genosynth.generate.trained import Model, ModelHeader, load_model, read_model_header
from genosynth.generate.training import TrainingOptions, train_diffusion, train_gan, train_rbm
from genosynth.io import HaplotypeWriter, read_haplotypes, write_haplotypes
from genosynth.io.holdout import split_holdout
from genosynth.io.matrix import HaplotypeMatrix, Sites
from genosynth.io.regions import Region
from genosynth.io.windows import Window, split_window

__all__ = [
    "CnnScanOptions",
    "DemographyReport",
    "FidelityReport",
    "GateFailed",
    "HaplotypeMatrix",
    "HaplotypeWriter",
    "ImputationReport",
    "InputError",
    "Model",
    "ModelHeader",
    "MosaicOutput",
    "MosaicSettings",
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
    "infer_demography",
    "load_model",
    "load_selection_network",
    "read_haplotypes",
    "read_model_header",
    "sample_baseline",
    "sample_chain",
    "sample_mosaic",
    "selection_scan",
    "split_holdout",
    "split_window",
    "train_diffusion",
    "train_gan",
    "train_rbm",
    "write_chain",
    "write_haplotypes",
    "write_mosaic",
]

# the public classes are genosynth's: tracebacks, reprs and the API reference say genosynth.OptionError, never the
# private module that defines it
for _name in __all__:
    if isinstance(globals()[_name], type):
        globals()[_name].__module__ = __name__
del _name
