"""Helpers for the infrastructure tests: read CloudFormation YAML, run cfn-lint."""
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads short-form intrinsics (!Ref X) as their long form."""


def _intrinsic(loader, tag_suffix, node):
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path) -> dict:
    return yaml.load(Path(path).read_text(), Loader=_CfnLoader)


def cfn_lint_command() -> str:
    candidate = Path(sys.executable).parent / "cfn-lint"
    found = str(candidate) if candidate.exists() else shutil.which("cfn-lint")
    if not found:
        raise AssertionError("cfn-lint is not installed: it belongs in requirements-dev.txt")
    return found


def cfn_lint(*paths) -> subprocess.CompletedProcess:
    """cfn-lint's verdict: exit 0 clean; bit 2 errors, 4 warnings, 8 informational."""
    return subprocess.run([cfn_lint_command(), "--", *map(str, paths)], capture_output=True, text=True)
