"""``python -m genosynth`` runs the command line."""

from genosynth.cli import main

main()
