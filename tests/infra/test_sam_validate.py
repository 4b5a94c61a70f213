"""`sam validate --lint` of the packaged app template: the SAM CLI's own verdict (its SAM
translator, then cfn-lint), on the template test_package.py packages, offline and without
credentials (a region and dummy keys from the packaging environment; no telemetry)."""
import subprocess
import sys
from pathlib import Path

import pytest

from tools.admin.deploy import packaging

SAM = Path(sys.executable).parent / "sam"  # aws-sam-cli, from requirements-dev.txt


def sam_validate(template: Path) -> subprocess.CompletedProcess:
    assert SAM.exists(), "the SAM CLI is not installed: aws-sam-cli belongs in requirements-dev.txt"
    return subprocess.run([str(SAM), "validate", "--lint", "--template", str(template)],
                          env=dict(packaging.wheelhouse_env(), SAM_CLI_TELEMETRY="0"),
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_packaged_template_passes_sam_validate(stand_in_project, tmp_path, stage):
    sam = packaging.package(stage, tmp_path / "out", project_dir=stand_in_project,
                            wheelhouse=tmp_path / "no-wheels")
    result = sam_validate(sam)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_finds_a_broken_template(tmp_path):
    """The check above can fail: --lint reports what the SAM translator alone lets through."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("Transform: AWS::Serverless-2016-10-31\n"
                      "Resources:\n"
                      "  Function:\n"
                      "    Type: AWS::Serverless::Function\n"
                      "    Properties: {Handler: app.app, Runtime: python3.11, CodeUri: x.zip,"
                      " MemorySize: plenty}\n")
    result = sam_validate(broken)
    assert result.returncode != 0 and "E3012" in result.stdout + result.stderr
