"""Everything a GPU changes, measured in one run that fits a 10-minute slot on one H100/H200 (or a tiny CPU run).

One command writes one JSON file, section by section (a run cut short keeps what it measured), and ``render``
turns that file into the documentation's page, tables and plots:

    .venv/bin/python bench/gpu.py data                       # simulate the 10,000-site windows once (msprime)
    .venv/bin/python bench/gpu.py run -o gpu.json            # on the GPU, about 9 minutes
    .venv/bin/python bench/gpu.py run --tiny --device cpu -o tiny.json   # the same code at toy sizes (CI)
    .venv/bin/python bench/gpu.py render gpu.json [more.json ...] --docs docs/benchmarks

Sections, in the order they run (each within its share of ``--budget`` seconds):

yardstick
    Matrix products on the device (float32, TF32 and bf16) and on the CPU: the ceilings every other figure
    is read against.
throughput
    Training and sampling throughput (haplotypes per second) and peak GPU memory of every generator (GAN
    presets yelmen2021, wgan-gp and conv-wgan-gp, the RBM, diffusion over sites and over principal components)
    at 805, 10,000 and 65,536 sites, on the GPU and on the CPU of the same machine, and of the selection CNN
    (images per second). GPU options are measured here, not assumed: bf16 autocast and a batch of 256.
    A configuration whose training state would not fit the device is skipped with the size it would need.
time_to_target
    The 805-SNP data split 80/20 by individual; the default GAN (wgan-gp), the RBM and the diffusion model
    trained on the GPU in growing time slices (resumed from a checkpoint), each kept state judged as the CPU
    benchmark judges it (5000 sampled haplotypes, ``evaluate`` and ``check_privacy``, targets from
    ``bench/models.py``) until every target is met; then the paper's GAN (yelmen2021, batch 32) for the rest
    of its share, with its epochs per second and the time its 20,000 epochs would take.
conv_window
    The convolutional WGAN-GP on a 10,000-site window of the simulated chromosome for a fixed time: does it
    learn LD on a GPU?
scale
    Sampling 100,000 haplotypes from each trained model; ``evaluate`` on 5000 real x 5000 artificial haplotypes
    x 10,000 sites on the GPU.
gpu_tests
    Every ``gpu``-marked test of the suite (collected only, when no GPU is present).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SCHEMA_VERSION = 1
SECTIONS = ("yardstick", "throughput", "time_to_target", "conv_window", "scale", "gpu_tests")
# each section's share of --budget; a section ends early when done, and its unused time passes on
SHARES = {
    "yardstick": 0.02,
    "throughput": 0.25,
    "time_to_target": 0.45,
    "conv_window": 0.13,
    "scale": 0.06,
    "gpu_tests": 0.09,
}
# the generators measured: name -> (kind, options of its configuration)
GENERATORS = {
    "gan yelmen2021": ("gan", {"preset": "yelmen2021"}),
    "gan wgan-gp": ("gan", {"preset": "wgan-gp"}),
    "gan conv-wgan-gp": ("gan", {"preset": "conv-wgan-gp"}),
    "rbm": ("rbm", {}),
    "diffusion sites": ("diffusion", {"representation": "sites"}),
    "diffusion pca": ("diffusion", {"representation": "pca"}),
}


SIZES = {"full": (805, 10_000, 65_536), "tiny": (64,)}
# throughput: haplotypes of random data per measurement and seconds each timed call aims at
THROUGHPUT_DATA = {"full": {"gpu": 4096, "cpu": 1024}, "tiny": {"gpu": 64, "cpu": 64}}
TIMED_SECONDS = {"full": {"gpu": 0.5, "cpu": 1.5}, "tiny": {"gpu": 0.05, "cpu": 0.05}}
LARGE_BATCH = {"full": 256, "tiny": 40}  # the throughput option measured against batch 32
SAMPLED = {"full": 100_000, "tiny": 1000}  # scale: haplotypes sampled from each model
JUDGED = {"full": 5000, "tiny": 100}  # time_to_target and conv_window: haplotypes each judge samples
WINDOW = {
    "full": {"individuals_per_population": 840, "length": 6_000_000, "sites": 10_000},
    "tiny": {"individuals_per_population": 20, "length": 300_000, "sites": 200},
}
TINY_805 = {"individuals": 100, "sites": 60}  # tiny: a slice of the 805-SNP data
TINY_TRAINING_SECONDS = 1.0  # tiny: each model's training, whatever the budget
PAPER_EPOCHS = 20_000  # the paper's GAN ran this many epochs
GPU_TEST_FILES = (
    "tests/test_models.py",
    "tests/test_diffusion.py",
    "tests/test_windows.py",
    "tests/test_evaluate.py",
    "tests/test_privacy_check.py",
    "tests/test_selection_cnn.py",
)


# -- the run: one JSON file written after each section ------------------------------------------------------------
class Run:
    """The results so far, written atomically to ``path`` whenever a section ends, and the wall-clock budget."""

    def __init__(self, path: Path, *, budget: float, scale: str, device: str) -> None:
        self.path, self.budget, self.scale, self.device = path, budget, scale, device
        self.start = time.monotonic()
        self.trained_models: dict[str, Any] = {}  # by name: what time_to_target and conv_window trained, for scale
        self.window: tuple[Any, Any, Any] | None = None  # conv_window's training and held-out sets and its samples
        self.results: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "scale": scale,
            "device": device,
            "budget_seconds": budget,
            "command": " ".join(["bench/gpu.py", *sys.argv[1:]]),
            "machine": _machine(device),
            "sections": {},
        }

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.start)

    def section(self, name: str, body: Callable[[float], dict[str, Any]]) -> None:
        """Run section ``name`` with its share of the time left (its unused time passes to the next one)."""
        later = sum(SHARES[s] for s in SECTIONS[SECTIONS.index(name) :])
        share = max(0.0, self.left()) * SHARES[name] / later
        started = time.monotonic()
        print(f"== {name}: {share:.0f} s of {self.left():.0f} s left", flush=True)
        try:
            result = body(share)
        except Exception as err:  # a failed section is recorded and the run goes on to the next one
            import traceback

            traceback.print_exc()
            result = {"error": f"{type(err).__name__}: {err}"}
        result["seconds"] = round(time.monotonic() - started, 1)
        self.results["sections"][name] = result
        self.write()

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.partial")
        partial.write_text(json.dumps(self.results, indent=1, default=_plain) + "\n")
        os.replace(partial, self.path)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _machine(device: str) -> dict[str, Any]:
    import torch

    machine: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
        "numpy": np.__version__,
    }
    if device == "cuda":
        properties = torch.cuda.get_device_properties(0)
        machine.update(
            gpu=properties.name,
            gpu_memory_gib=round(properties.total_memory / 2**30, 1),
            compute_capability=f"{properties.major}.{properties.minor}",
            multiprocessors=properties.multi_processor_count,
            cuda=torch.version.cuda,
        )
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            machine["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
            ).stdout.strip()
    return machine


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def _timed(device: str, work: Callable[[], Any]) -> tuple[float, Any]:
    _sync(device)
    start = time.perf_counter()
    out = work()
    _sync(device)
    return time.perf_counter() - start, out


def _peak_reset(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak(device: str) -> int | None:
    if device == "cuda":
        import torch

        return int(torch.cuda.max_memory_allocated())
    return None


def _room(device: str) -> int:
    """Bytes a training state may take: most of the GPU's free memory, or half the machine's available memory."""
    if device == "cuda":
        import torch

        return int(torch.cuda.mem_get_info()[0] * 0.85)
    with open("/proc/meminfo") as meminfo:
        available = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable"))
    return available // 2


# -- yardstick ----------------------------------------------------------------------------------------------------
def yardstick(run: Run, share: float) -> dict[str, Any]:
    """Matrix-product rates (TFLOP/s) on the device and the CPU: random operands, warm-up, the median of repeats."""
    import torch

    n_device, n_cpu = (8192, 2048) if run.scale == "full" else (256, 256)
    result: dict[str, Any] = {}
    targets = [("cpu", torch.float32, n_cpu, "cpu_fp32")]
    if run.device == "cuda":
        targets = [
            ("cuda", torch.float32, n_device, "gpu_fp32"),
            ("cuda", "tf32", n_device, "gpu_tf32"),
            ("cuda", torch.bfloat16, n_device, "gpu_bf16"),
        ] + targets
    for device, dtype, n, name in targets:
        tf32 = dtype == "tf32"
        dtype = torch.float32 if tf32 else dtype
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
        product = functools.partial(torch.matmul, a, b)
        for _ in range(2):
            product()
        times = [_timed(device, product)[0] for _ in range(5 if device == "cpu" else 20)]
        result[name] = {"n": n, "tflops": round(2 * n**3 / float(np.median(times)) / 1e12, 3)}
        del a, b, product
    torch.backends.cuda.matmul.allow_tf32 = False
    return result


# -- throughput ---------------------------------------------------------------------------------------------------
def _config(kind: str, options: dict[str, Any], n_sites: int, n_haplotypes: int, batch_size: int) -> Any:
    if kind == "gan":
        from genosynth.generate.models.gan import GanConfig

        return GanConfig.for_preset(options["preset"], n_sites=n_sites, batch_size=batch_size)
    if kind == "rbm":
        from genosynth.generate.models.rbm import RbmConfig

        return RbmConfig.for_sites(n_sites, batch_size=batch_size)
    from genosynth.generate.models.diffusion import DiffusionConfig

    return DiffusionConfig.for_sites(
        n_sites, n_haplotypes=n_haplotypes, representation=options["representation"], batch_size=batch_size
    )


def state_bytes(kind: str, config: Any) -> int | None:
    """Bytes of a dense GAN's training state (weights, gradients and Adam's two moments, float32); None for the
    other kinds, whose parameters do not grow with the square of the sites.

    >>> from genosynth.generate.models.gan import GanConfig
    >>> round(state_bytes("gan", GanConfig.for_preset("wgan-gp", n_sites=65_536)) / 2**30)
    161
    """
    if kind != "gan" or config.conv_channels:
        return None
    k = config.n_classes + config.context_sites
    layers = (
        [config.latent_size + k, *config.generator_hidden, config.n_sites],
        [config.n_sites + k, *config.discriminator_hidden, 1],
    )
    parameters = sum(a * b + b for sizes in layers for a, b in zip(sizes[:-1], sizes[1:]))
    return 16 * parameters


def _sites(n: int) -> Any:
    from genosynth.io.matrix import Sites

    return Sites(
        chrom=np.full(n, "1"),
        pos=np.arange(1, n + 1) * 100,
        id=np.full(n, "."),
        ref=np.full(n, "A"),
        alt=np.full(n, "C"),
    )


def measure_generator(
    name: str,
    n_sites: int,
    *,
    device: str,
    n_haplotypes: int,
    seconds: float,
    batch_size: int = 32,
    autocast: bool = False,
    sampling: bool = True,
) -> dict[str, Any]:
    """Training and sampling throughput of generator ``name`` on random haplotypes of ``n_sites`` sites."""
    import torch
    from genosynth.generate.models.registry import generator_class

    kind, options = GENERATORS[name]
    config = _config(kind, options, n_sites, n_haplotypes, batch_size)
    row: dict[str, Any] = {
        "generator": name,
        "sites": n_sites,
        "device": device,
        "batch_size": batch_size,
        "precision": "bf16-autocast" if autocast else "fp32",
    }
    need = state_bytes(kind, config)
    if need is not None and need > _room(device):
        row["skipped"] = f"its training state needs {need / 2**30:.0f} GiB; {_room(device) / 2**30:.0f} GiB usable"
        return row
    step = batch_size * max(1, getattr(config, "critic_steps", 1))  # haplotypes per generator update
    n_haplotypes = max(n_haplotypes, 2 * step)
    generator_rng = np.random.default_rng(n_sites)
    frequencies = np.clip(generator_rng.beta(0.5, 0.5, n_sites), 0.01, 0.99)
    data = torch.as_tensor(generator_rng.random((n_haplotypes, n_sites)) < frequencies, dtype=torch.float32).to(device)
    _peak_reset(device)
    generator = generator_class(kind)(config, device=device, seed=1, frequencies=frequencies)
    if getattr(config, "pca_components", 0):
        generator._fit_pca(data)  # fitted on the whole data, as training's first epoch does
    rng = torch.Generator(device=device).manual_seed(1)
    precision = torch.autocast("cuda", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
    with precision:
        warm, _ = _timed(device, functools.partial(generator.train_epoch, data[:step], None, rng))
        first_pass, _ = _timed(device, functools.partial(generator.train_epoch, data[:step], None, rng))
        n = int(min(n_haplotypes, max(step, seconds / first_pass * step)) // step * step)
        took, losses = _timed(device, functools.partial(generator.train_epoch, data[:n], None, rng))
    row.update(
        train_haplotypes_per_s=n / took,
        train_timed_haplotypes=n,
        first_step_seconds=round(warm, 3),
        train_peak_bytes=_peak(device),
        finite_losses=bool(all(np.isfinite(v) for v in losses.values())),
    )
    if sampling:
        options = generator.parse_sampling_options(_sites(n_sites))
        _peak_reset(device)
        first, _ = _timed(device, functools.partial(generator.generate, 64, rng, **options))
        n = int(min(20_000, max(64, seconds / first * 64)))
        took, _ = _timed(device, functools.partial(generator.generate, n, rng, **options))
        row.update(sample_haplotypes_per_s=n / took, sample_timed_haplotypes=n, sample_peak_bytes=_peak(device))
    del generator, data
    _peak_reset(device)
    return row


def measure_cnn(
    *, device: str, seconds: float, batch_size: int = 32, autocast: bool = False, image_size: int | None = None
) -> dict[str, Any]:
    """Training steps and scoring of the selection CNN (images per second) on random images."""
    import torch
    from genosynth.downstream.selection.network import CnnConfig, build_network
    from genosynth.downstream.selection.sweeps import SweepSettings

    size = image_size or SweepSettings.__dataclass_fields__["image_size"].default
    config = CnnConfig(batch_size=batch_size)
    torch.manual_seed(1)
    network = build_network(size, 2, config).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    images = torch.randint(0, 2, (2048, 1, size, size), device=device).float()
    labels = torch.randint(0, 2, (2048,), device=device)
    precision = torch.autocast("cuda", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()

    def train(batches: int) -> None:
        for b in range(batches):
            lo = (b * batch_size) % (2048 - batch_size)
            with precision:
                loss = torch.nn.functional.cross_entropy(
                    network(images[lo : lo + batch_size]), labels[lo : lo + batch_size]
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    _peak_reset(device)
    _timed(device, lambda: train(2))
    first, _ = _timed(device, lambda: train(2))
    batches = max(2, int(seconds / first * 2))
    took, _ = _timed(device, lambda: train(batches))
    row = {
        "generator": "selection cnn",
        "sites": f"{size} x {size} image",
        "device": device,
        "batch_size": batch_size,
        "precision": "bf16-autocast" if autocast else "fp32",
        "train_haplotypes_per_s": batches * batch_size / took,
        "train_peak_bytes": _peak(device),
        "unit": "images",
    }
    with torch.no_grad(), precision:
        _timed(device, lambda: network(images[:256]))
        took, _ = _timed(device, lambda: [network(images[lo : lo + 256]) for lo in range(0, 2048, 256)])
    row["sample_haplotypes_per_s"] = 2048 / took  # scoring: images per second
    return row


def throughput(run: Run, share: float) -> dict[str, Any]:
    """Every generator at every size: the device at batch 32 first, then the CPU, then bf16 autocast and a larger
    batch (256) on the GPU; what the share of time does not reach is listed as not measured."""
    deadline = time.monotonic() + share if run.scale == "full" else float("inf")  # tiny: measure everything
    sizes = SIZES[run.scale]
    data, timed = THROUGHPUT_DATA[run.scale], TIMED_SECONDS[run.scale]
    plans: list[tuple[str, dict[str, Any]]] = []  # (group, keyword arguments)
    groups = [("device", run.device, {})]
    if run.device == "cuda":
        groups += [
            ("cpu", "cpu", {}),
            ("bf16", "cuda", {"autocast": True, "sampling": False}),
            ("large_batch", "cuda", {"batch_size": LARGE_BATCH[run.scale], "sampling": False}),
        ]
    else:
        groups += [("large_batch", "cpu", {"batch_size": LARGE_BATCH[run.scale], "sampling": False})]
    for group, device, extra in groups:
        kind = "gpu" if device == "cuda" else "cpu"
        for name in GENERATORS:
            for n_sites in sizes:
                plans.append(
                    (
                        group,
                        dict(
                            name=name,
                            n_sites=n_sites,
                            device=device,
                            n_haplotypes=data[kind],
                            seconds=timed[kind],
                            **extra,
                        ),
                    )
                )
        plans.append(
            (
                group,
                dict(
                    name="selection cnn",
                    device=device,
                    seconds=timed[kind],
                    **{k: v for k, v in extra.items() if k != "sampling"},
                ),
            )
        )
    rows, previous = [], {}  # previous: (group, name) -> (sites, seconds) of the last measurement, to predict the next
    for group, kwargs in plans:
        name = kwargs["name"]
        size = kwargs.get("n_sites")
        if size is not None and (group, name) in previous:
            last_sites, last_seconds = previous[(group, name)]
            predicted = last_seconds * size / last_sites
        else:
            predicted = 0.0
        if time.monotonic() + predicted > deadline:
            rows.append(
                {
                    "group": group,
                    "generator": name,
                    "sites": size,
                    "device": kwargs["device"],
                    "skipped": "not measured within the section's time"
                    + (f" (predicted {predicted:.0f} s)" if predicted else ""),
                }
            )
            continue
        started = time.monotonic()
        try:
            if name == "selection cnn":
                row = measure_cnn(
                    **{k: v for k, v in kwargs.items() if k != "name"}, image_size=None if run.scale == "full" else 64
                )
            else:
                row = measure_generator(**kwargs)
        except Exception as err:  # out of memory and the like: recorded, the next configuration is measured
            row = {
                "generator": name,
                "sites": size,
                "device": kwargs["device"],
                "error": f"{type(err).__name__}: {err}"[:300],
            }
            _peak_reset(kwargs["device"])
        row["group"] = group
        if size is not None:
            previous[(group, name)] = (size, time.monotonic() - started)
        rows.append(row)
        print(f"  {group:<9} {name:<17} {size or '':>6} " + _throughput_cell(row), flush=True)
    return {"rows": rows, "data_haplotypes": data, "timed_seconds": timed, "large_batch": LARGE_BATCH[run.scale]}


def _throughput_cell(row: dict[str, Any]) -> str:
    if "skipped" in row or "error" in row:
        return row.get("skipped") or row["error"]
    sample = row.get("sample_haplotypes_per_s")
    return (
        f"train {row['train_haplotypes_per_s']:,.0f}/s"
        + (f", sample {sample:,.0f}/s" if sample else "")
        + (f", peak {row['train_peak_bytes'] / 2**20:,.0f} MiB" if row.get("train_peak_bytes") else "")
    )


# -- time to the fidelity targets ----------------------------------------------------------------------------------
def _split_805(run: Run, seed: int = 1) -> tuple[Any, Any]:
    """The 805-SNP data split 80/20 by individual within superpopulations (the CPU benchmark's split)."""
    import genosynth
    from genosynth.datasets import data_805

    data = data_805()
    real = genosynth.read_haplotypes(
        data.hapt, legend=data.legend, populations=data.samples, population_column="Superpopulation code"
    )
    if run.scale == "tiny":
        keep = np.sort(np.random.default_rng(seed).choice(len(real.samples), TINY_805["individuals"], replace=False))
        real = real.select_samples(keep).select_sites(np.arange(TINY_805["sites"]))
    return genosynth.split_holdout(real, fraction=0.2, seed=seed)


def judge(model: Any, name: str, train: Any, holdout: Any, *, n: int, seed: int, device: str) -> dict[str, Any]:
    """The CPU benchmark's judges: ``n`` sampled haplotypes, evaluate against the training set with the held-out
    set as reference, and check_privacy."""
    import genosynth

    started = time.perf_counter()
    artificial = model.sample(n, seed=seed, progress=False)
    sample_seconds = time.perf_counter() - started
    report = genosynth.evaluate(train, {name: artificial}, holdout=holdout, seed=seed, device=device, progress=False)
    privacy = genosynth.check_privacy(train, holdout, artificial, seed=seed, device=device, progress=False)
    metrics = {
        key: report.sets[name].get(key)
        for key in ("af_r", "ld_r_all_pairs", "ld_r", "ld_strength", "w2d_pca", "aa_truth", "aa_syn", "aats")
    }
    metrics.update({key: privacy.metrics.get(key) for key in ("privacy_loss", "exact_copies", "mia_auc")})
    metrics["sample_seconds"] = round(sample_seconds * 5000 / n, 2)  # per 5000 haplotypes, as the targets say
    metrics["holdout"] = {
        key: report.sets["holdout"].get(key)
        for key in ("af_r", "ld_r_all_pairs", "ld_r", "ld_strength", "w2d_pca", "aats")
    }
    return metrics


def _targets() -> tuple[dict[str, dict[str, Any]], Callable[[float, str, Any], bool]]:
    """The CPU benchmark's targets (bench/models.py), one source for both benchmarks."""
    sys.path.insert(0, str(BENCH))
    from models import TARGETS_BY_MODEL, _meets  # noqa: PLC0415 (the sibling script)

    return TARGETS_BY_MODEL, _meets


def _missed(metrics: dict[str, Any], targets: dict[str, Any], meets: Callable[[float, str, Any], bool]) -> list[str]:
    return [
        f"{key} {op} {bound}"
        for key, (op, bound) in targets.items()
        if metrics.get(key) is None or not meets(metrics[key], op, bound)
    ]


TRAINERS = {
    "gan": ("train_gan", {"preset": "wgan-gp"}, 10),
    "rbm": ("train_rbm", {}, 10),
    "diffusion": ("train_diffusion", {}, 5),
    "diffusion_pca": ("train_diffusion", {"representation": "pca"}, 5),
}


def time_to_target(run: Run, share: float) -> dict[str, Any]:
    """Each model trained in slices of growing length (1/4, 1/4, 1/2 of its time), each kept state judged, until
    its targets are met or its time is spent; the models share the section's time left equally."""
    import genosynth

    deadline = time.monotonic() + share
    targets, meets = _targets()
    train, holdout = _split_805(run)
    n, seed, device = JUDGED[run.scale], 1, run.device
    validation = min(1000, holdout.n_haplotypes)
    result: dict[str, Any] = {
        "train_haplotypes": train.n_haplotypes,
        "holdout_haplotypes": holdout.n_haplotypes,
        "sites": train.n_sites,
        "judged_haplotypes": n,
        "validation_haplotypes": validation,
        "models": {},
    }
    order = ["gan", "rbm", "diffusion", "paper_gan", "diffusion_pca"]
    with tempfile.TemporaryDirectory() as tmp:
        for index, name in enumerate(order):
            per_model = (deadline - time.monotonic()) / (len(order) - index)
            if run.scale == "tiny":
                per_model = TINY_TRAINING_SECONDS / 0.6
            elif per_model < share * 0.06:
                result["models"][name] = {"skipped": "not reached within the section's time"}
                continue
            if name == "paper_gan":
                result["models"][name] = _paper_gan(train, holdout, per_model, n=n, seed=seed, device=device, run=run)
                continue
            function, options, monitor_every = TRAINERS[name]
            checkpoint = Path(tmp) / f"{name}.ckpt"
            model_deadline = time.monotonic() + per_model
            training = per_model * 0.6  # the rest judges the kept states
            trained, judging, stages, model = 0.0, 0.0, [], None
            for fraction in (0.25, 0.25, 0.5):
                if stages and (
                    run.scale == "tiny" or time.monotonic() + training * fraction + judging > model_deadline
                ):
                    break
                model = getattr(genosynth, function)(
                    train,
                    **options,
                    epochs=10**6,
                    max_time=training * fraction,
                    seed=seed,
                    device=device,
                    holdout=holdout,
                    early_stop="fidelity",
                    monitor_every=monitor_every,
                    validation_size=validation,
                    checkpoint=checkpoint,
                    checkpoint_every=10**6,
                    resume=checkpoint.exists(),
                    progress=False,
                )
                summary = model.provenance[-1]["summary"]
                trained += summary["seconds_this_run"]
                started = time.monotonic()
                metrics = judge(model, name, train, holdout, n=n, seed=seed, device=device)
                judging = time.monotonic() - started
                missed = _missed(metrics, targets[name], meets)
                stages.append(
                    {
                        "training_seconds": round(trained, 1),
                        "epochs": summary["epochs_trained"],
                        "kept_epoch": summary["kept_epoch"],
                        **metrics,
                        "missed": missed,
                    }
                )
                print(
                    f"  {name}: {trained:.0f} s, {summary['epochs_trained']} epochs: "
                    + ("every target met" if not missed else "missed " + "; ".join(missed)),
                    flush=True,
                )
                if not missed:
                    break
            met = next((s["training_seconds"] for s in stages if not s["missed"]), None)
            result["models"][name] = {
                "targets": {k: [op, bound] for k, (op, bound) in targets[name].items()},
                "stages": stages,
                "seconds_to_targets": met,
                "epochs_per_second": stages[-1]["epochs"] / max(trained, 1e-9),
            }
            run.trained_models[name] = model
    return result


def _paper_gan(train: Any, holdout: Any, seconds: float, *, n: int, seed: int, device: str, run: Run) -> dict[str, Any]:
    """The paper's GAN (yelmen2021, batch 32, its learning rates) for ``seconds``, judged once; its epochs per
    second give the time 20,000 epochs would take."""
    import genosynth

    model = genosynth.train_gan(
        train,
        preset="yelmen2021",
        epochs=10**6,
        max_time=seconds * 0.7,
        seed=seed,
        device=device,
        monitor_every=10**6,
        validation_size=min(1000, holdout.n_haplotypes),
        progress=False,
    )
    summary = model.provenance[-1]["summary"]
    rate = summary["epochs_trained"] / summary["seconds_this_run"]
    metrics = judge(model, "paper_gan", train, holdout, n=n, seed=seed, device=device)
    run.trained_models["paper_gan"] = model
    return {
        "training_seconds": summary["seconds_this_run"],
        "epochs": summary["epochs_trained"],
        "epochs_per_second": rate,
        "paper_epochs": PAPER_EPOCHS,
        "projected_paper_seconds": PAPER_EPOCHS / rate,
        **metrics,
    }


# -- the convolutional GAN on a 10,000-site window -------------------------------------------------------------------
def simulate_window(data_dir: Path, *, scale: str) -> tuple[Path, Path]:
    """The first ``sites`` sites with minor allele frequency at least 1% of a stdpopsim OutOfAfrica_3G09 stretch
    of chr22 (flat map), split 80/20 by individual: train.h5 and holdout.h5 in ``data_dir`` (made once)."""
    import genosynth
    from genosynth.downstream.simulation import POPULATIONS, out_of_africa_tree_sequence
    from genosynth.io.matrix import HaplotypeMatrix, Sites

    settings = WINDOW[scale]
    folder = data_dir / f"window_{settings['sites']}"
    train, holdout = folder / "train.h5", folder / "holdout.h5"
    if train.exists() and holdout.exists():
        return train, holdout
    folder.mkdir(parents=True, exist_ok=True)
    start = 15_000_000
    ts = out_of_africa_tree_sequence(
        individuals_per_population=settings["individuals_per_population"],
        start=start,
        length=settings["length"],
        seed=1,
    )
    genotypes = ts.genotype_matrix()  # sites x haplotypes
    biallelic = np.array([len(site.mutations) == 1 for site in ts.sites()])
    frequency = genotypes.mean(axis=1)
    keep = np.flatnonzero(biallelic & (np.minimum(frequency, 1 - frequency) >= 0.01))[: settings["sites"]]
    if len(keep) < settings["sites"]:
        raise SystemExit(f"the simulation has {len(keep)} common sites; {settings['sites']} asked for")
    positions = np.array([int(ts.site(int(i)).position) for i in keep]) + start
    positions = np.maximum.accumulate(np.maximum(positions, np.arange(len(positions)) + positions[0]))
    sites = Sites(
        chrom=np.full(len(keep), "22"),
        pos=positions,
        id=np.full(len(keep), "."),
        ref=np.full(len(keep), "A"),
        alt=np.full(len(keep), "G"),
    )
    n_individuals = ts.num_individuals
    labels = np.repeat(POPULATIONS, settings["individuals_per_population"])
    matrix = HaplotypeMatrix(
        haplotypes=np.ascontiguousarray(genotypes[keep].T.astype(np.uint8)),
        sites=sites,
        samples=np.array([f"sim_{i + 1}" for i in range(n_individuals)]),
        ploidy=np.full(n_individuals, 2, dtype=np.int8),
        populations=labels,
    )
    parts = genosynth.split_holdout(matrix, fraction=0.2, seed=1)
    for part, path in zip(parts, (train, holdout)):
        genosynth.write_haplotypes(part, path)
    return train, holdout


def conv_window(run: Run, share: float, data_dir: Path) -> dict[str, Any]:
    """conv-wgan-gp trained on the window for most of the share (fidelity early stopping), then judged."""
    import genosynth

    train_path, holdout_path = simulate_window(data_dir, scale=run.scale)
    train, holdout = genosynth.read_haplotypes(train_path), genosynth.read_haplotypes(holdout_path)
    seconds = share * 0.6 if run.scale == "full" else TINY_TRAINING_SECONDS
    model = genosynth.train_gan(
        train,
        preset="conv-wgan-gp",
        epochs=10**6,
        max_time=seconds,
        seed=1,
        device=run.device,
        holdout=holdout,
        early_stop="fidelity",
        monitor_every=2,
        validation_size=min(1000, holdout.n_haplotypes),
        progress=False,
    )
    summary = model.provenance[-1]["summary"]
    n = min(JUDGED[run.scale], 5000)
    artificial = model.sample(n, seed=1, progress=False)
    bernoulli = genosynth.sample_baseline(train, n, method="bernoulli", seed=1, progress=False)
    report = genosynth.evaluate(
        train,
        {"conv_gan": artificial, "bernoulli": bernoulli},
        holdout=holdout,
        seed=1,
        device=run.device,
        progress=False,
    )
    keys = ("af_r", "ld_r", "ld_strength", "ld_r_all_pairs", "w2d_pca", "aats", "fixed_fraction")
    run.trained_models["conv_gan"] = model
    run.window = (train, holdout, artificial)
    history = [
        {k: row.get(k) for k in ("epoch", "seconds", "ld_r", "ld_strength", "af_r", "privacy_loss")}
        for row in model.history
        if "ld_r" in row
    ]
    return {
        "sites": train.n_sites,
        "train_haplotypes": train.n_haplotypes,
        "holdout_haplotypes": holdout.n_haplotypes,
        "training_seconds": summary["seconds_this_run"],
        "epochs": summary["epochs_trained"],
        "kept_epoch": summary["kept_epoch"],
        "sets": {name: {k: report.sets[name].get(k) for k in keys} for name in ("conv_gan", "bernoulli", "holdout")},
        "monitored": history,
    }


# -- scale ----------------------------------------------------------------------------------------------------------
def scale(run: Run, share: float) -> dict[str, Any]:
    """Sampling SAMPLED haplotypes from every trained model, then evaluate on the window at 5000 x 5000."""
    import genosynth

    deadline = time.monotonic() + share
    result: dict[str, Any] = {"sampling": {}}
    n = SAMPLED[run.scale]
    for name, model in run.trained_models.items():
        if run.scale == "full" and time.monotonic() > deadline - share * 0.4:
            result["sampling"][name] = {"skipped": "not reached within the section's time"}
            continue
        _peak_reset(run.device)
        took, drawn = _timed(run.device, functools.partial(model.sample, n, seed=2, progress=False))
        result["sampling"][name] = {
            "haplotypes": n,
            "sites": drawn.n_sites,
            "seconds": round(took, 2),
            "haplotypes_per_s": n / took,
            "peak_bytes": _peak(run.device),
        }
        print(f"  sampled {n} from {name} in {took:.1f} s", flush=True)
    if run.window is not None:
        train, holdout, artificial = run.window  # the window's real haplotypes (train and held out) as one set
        size = min(5000, train.n_haplotypes + holdout.n_haplotypes, artificial.n_haplotypes)
        real = genosynth.HaplotypeMatrix.artificial(
            np.vstack([train.haplotypes, holdout.haplotypes])[:size], train.sites
        )
        synthetic = genosynth.HaplotypeMatrix.artificial(artificial.haplotypes[:size], train.sites)
        _peak_reset(run.device)
        took, _ = _timed(
            run.device,
            lambda: genosynth.evaluate(real, {"conv_gan": synthetic}, seed=1, device=run.device, progress=False),
        )
        result["evaluate"] = {
            "real": real.n_haplotypes,
            "synthetic": synthetic.n_haplotypes,
            "sites": real.n_sites,
            "seconds": round(took, 2),
            "peak_bytes": _peak(run.device),
        }
        print(f"  evaluate {real.n_haplotypes} x {synthetic.n_haplotypes} x {real.n_sites} in {took:.1f} s", flush=True)
    return result


# -- the gpu-marked tests -----------------------------------------------------------------------------------------
def gpu_tests(run: Run, share: float) -> dict[str, Any]:
    """pytest -m gpu over the files that hold such tests (collected only, without a GPU)."""
    collect = run.device != "cuda"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "gpu",
        "-n",
        "0",
        "-p",
        "no:cacheprovider",
        "-q",
        *(["--collect-only"] if collect else ["-rA"]),
        *GPU_TEST_FILES,
    ]
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=max(30.0, share))
    except subprocess.TimeoutExpired as err:
        return {"command": " ".join(command[2:]), "error": f"timed out after {err.timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    # --collect-only -q lists "file::test"; -rA ends with "PASSED file::test" (or FAILED, ERROR, SKIPPED ...) lines
    outcomes = (
        {line: "collected" for line in lines if "::" in line and " " not in line}
        if collect
        else {line.split(" ")[1]: line.split(" ")[0] for line in lines if "::" in line and line.split(" ")[0].isupper()}
    )
    return {
        "command": " ".join(command[2:]),
        "returncode": done.returncode,
        "summary": lines[-1] if lines else "",
        "tests": outcomes,
        "collected_only": collect,
    }


# -- command line ---------------------------------------------------------------------------------------------------
def run_all(args: argparse.Namespace) -> None:
    import torch

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    scale_name = "tiny" if args.tiny else "full"
    run = Run(args.output, budget=args.budget, scale=scale_name, device=device)
    bodies = {
        "yardstick": lambda share: yardstick(run, share),
        "throughput": lambda share: throughput(run, share),
        "time_to_target": lambda share: time_to_target(run, share),
        "conv_window": lambda share: conv_window(run, share, args.data_dir),
        "scale": lambda share: scale(run, share),
        "gpu_tests": lambda share: gpu_tests(run, share),
    }
    for name in SECTIONS:
        if name in args.sections:
            run.section(name, bodies[name])
    run.results["total_seconds"] = round(time.monotonic() - run.start, 1)
    run.write()
    print(f"wrote {args.output} in {run.results['total_seconds']:.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="simulate the window data once (msprime), for a machine without msprime")
    data.add_argument("--data-dir", type=Path, default=REPO / ".bench-data")
    data.add_argument("--tiny", action="store_true")
    measure = commands.add_parser("run", help="measure, writing one JSON file")
    measure.add_argument("-o", "--output", type=Path, required=True)
    measure.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    measure.add_argument("--budget", type=float, default=540.0, help="seconds for every section together")
    measure.add_argument("--tiny", action="store_true", help="toy sizes: the CPU check that the script runs")
    measure.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    measure.add_argument(
        "--data-dir", type=Path, default=REPO / ".bench-data", help="where the simulated window is read from, or made"
    )
    render = commands.add_parser("render", help="the documentation's page and plots from result files")
    render.add_argument(
        "results",
        type=Path,
        nargs="+",
        help="result files; a later file's sections replace an earlier one's (a section run again)",
    )
    render.add_argument("--docs", type=Path, required=True, help="folder receiving gpu.md and the plots")
    args = parser.parse_args(argv)
    if args.command == "data":
        print(simulate_window(args.data_dir, scale="tiny" if args.tiny else "full"))
    elif args.command == "run":
        run_all(args)
    else:
        from gpu_report import render_page  # noqa: PLC0415 (beside this script)

        render_page([json.loads(path.read_text()) for path in args.results], args.docs, sources=args.results)


if __name__ == "__main__":
    main()
