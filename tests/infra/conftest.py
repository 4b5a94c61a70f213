"""What the infrastructure tests share: a stand-in Chalice project to package."""
import shutil

import pytest

from tests.support.cfn import ROOT

# The real app's function names (and so its roles and log groups) and none of its
# requirements: `chalice package` needs no wheels for it, so the tests that use it always run.
STAND_IN_APP = '''
from chalice import Chalice, Rate
app = Chalice(app_name="modex")

@app.route("/shows")
def list_shows():
    return {"shows": []}

@app.lambda_function(name="create_show")
def create_show(event, context):
    return {}

@app.lambda_function(name="migrate")
def migrate(event, context):
    return {}

@app.schedule(Rate(5, unit=Rate.MINUTES), name="clean_up")
def clean_up(event):
    return {}
'''


@pytest.fixture(scope="module")
def stand_in_project(tmp_path_factory):
    """A project directory with the stand-in app.py and the real .chalice/ (stages, policies)."""
    project = tmp_path_factory.mktemp("stand-in")
    (project / "app.py").write_text(STAND_IN_APP)
    (project / "requirements.txt").write_text("")
    shutil.copytree(ROOT / ".chalice", project / ".chalice",
                    ignore=shutil.ignore_patterns("deployments", "venv"))
    return project
