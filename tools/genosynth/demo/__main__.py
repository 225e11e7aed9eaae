"""``python -m genosynth.demo`` (``make demo``): the demo's command line, in genosynth.cli with the others."""

from genosynth.cli import demo_main

demo_main()
