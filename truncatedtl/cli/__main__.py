"""``python -m truncatedtl.cli``: the ``ttl`` command (as torchrun and the DDP launcher start it)."""

from . import main

main()
