"""Fixtures of the load tools' tests."""
import os

import pytest

from tools.stress import viewers


@pytest.fixture(scope="session")
def viewer_tools():
    """nginx and pg_stat_statements, which the viewer storms need (.ci/run installs them):
    missing in CI is a failure, elsewhere a skip."""
    missing = viewers.missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail("missing in CI (.ci/run installs nginx and postgresql-15): " + "; ".join(missing))
        pytest.skip("missing: " + "; ".join(missing))
