"""`python -m os1` is the same as the `os1` command."""

from os1.cli import main

raise SystemExit(main())
