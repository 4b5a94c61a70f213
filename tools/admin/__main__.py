"""`python -m tools.admin create-show ...`: the admin CLI (tools/admin/cli.py)."""
import sys

from .cli import main

sys.exit(main())
