"""One module per command-line step: each defines STEP, DESCRIPTION, add_arguments(parser) and run(args).

The argparse definition in add_arguments is the single definition of a step's parameters; the Galaxy
wrappers and Nextflow modules are checked against it.
"""
