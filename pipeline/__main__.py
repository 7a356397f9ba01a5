"""`python -m pipeline` is the same as the `mentor` command."""

from pipeline.cli import main

main()
