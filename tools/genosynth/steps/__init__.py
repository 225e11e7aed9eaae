"""One module per command-line step: each defines STEP, SUMMARY (one line, for
``genosynth --help``), DESCRIPTION, add_arguments(parser) and run(args); optionally extra_inputs(args),
derived_outputs(args) and kept_when_stopped(args), the paths :mod:`genosynth.steps._paths` checks before any work.

The argparse definition in add_arguments is the single definition of a step's parameters; the Galaxy
wrappers and Nextflow modules are checked against it.
"""
