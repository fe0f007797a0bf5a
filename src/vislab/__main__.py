"""`python -m vislab` runs the command-line interface."""

from vislab.cli.main import main

raise SystemExit(main())
