"""`python -m tools.admin.deploy wheelhouse|package|deploy|outputs|destroy`: runs cli.main."""
import sys

from .cli import main

sys.exit(main())
