"""``python -m genosynth`` runs the command line."""

from .cli import main

main()
