"""Where things are, the DeployError, and a stage's settings: stack names, parameters, concurrency."""
import json
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra"
BUILD = ROOT / "build"
# AWS refuses a reservation that leaves fewer than this many unreserved executions.
MIN_UNRESERVED_CONCURRENCY = 100
# CloudFront takes only web ACLs made in us-east-1, so the edge stack lives there whatever
# the stage's region.
EDGE_REGION = "us-east-1"


# What a boto3 call raises: AWS's refusal (ClientError), or no credentials, no network, ...
AWS_ERRORS = (BotoCoreError, ClientError)


class DeployError(Exception):
    """A deployment step failed in a way the user can act on; the message says how."""


def aws_error(error: Exception) -> str:
    """An AWS error on one line, its code first: 'AccessDenied: User ... is not authorized ...'."""
    details = getattr(error, "response", {}).get("Error", {})
    text = f"{details['Code']}: {details.get('Message', '')}" if details.get("Code") else str(error)
    return " ".join(text.split())


def stack_names(stage: str) -> dict:
    return {
        "network": f"modex-{stage}-network",
        "app": f"modex-{stage}-app",
        "edge": f"modex-{stage}-edge",
        "frontend": f"modex-{stage}-frontend",
    }


def load_stage_params(stage: str, infra_dir: Path = INFRA) -> dict:
    """`infra/params/<stage>.json`: {"network": {...}, "app": {...}, "edge": {...}, "frontend": {...}},
    one section per stack, each optional.

    Values are CloudFormation parameter values (strings); a missing file means defaults.
    """
    path = infra_dir / "params" / f"{stage}.json"
    params = {"network": {}, "app": {}, "edge": {}, "frontend": {}}
    if path.exists():
        loaded = json.loads(path.read_text())
        for part in params:
            params[part] = {key: str(value) for key, value in loaded.get(part, {}).items()}
    return params


def chalice_stage_config(stage: str, root: Path = ROOT) -> dict:
    config = json.loads((root / ".chalice" / "config.json").read_text())
    if stage not in config.get("stages", {}):
        raise DeployError(f"stage {stage!r} is not in .chalice/config.json (stages: {', '.join(config['stages'])})")
    return config["stages"][stage]


def reserved_concurrency(stage: str, root: Path = ROOT) -> int:
    """The API function's reserved concurrency for the stage (0 when none is set)."""
    stage_config = chalice_stage_config(stage, root)
    handler = stage_config.get("lambda_functions", {}).get("api_handler", {})
    return int(handler.get("reserved_concurrency", stage_config.get("reserved_concurrency", 0)))


def check_concurrency_quota(lambda_client, reserved: int) -> None:
    """Fails early, with the fix, where the account's Lambda quota cannot fit the reservation.

    New accounts often start with a concurrency quota of 10, and AWS keeps at least 100
    executions unreserved: without this check the app stack fails half-way and rolls back.
    """
    if reserved <= 0:
        return
    try:
        limit = lambda_client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    except AWS_ERRORS as error:
        raise DeployError(
            f"cannot read this account's Lambda concurrency quota ({aws_error(error)}); the deploying "
            f"credentials need lambda:GetAccountSettings (docs/deploy.md, Prerequisites)") from error
    if reserved + MIN_UNRESERVED_CONCURRENCY > limit:
        raise DeployError(
            f"the API function reserves {reserved} concurrent executions, but this account's "
            f"Lambda concurrency quota is {limit} and AWS keeps {MIN_UNRESERVED_CONCURRENCY} unreserved. "
            f"Ask for a higher quota (Service Quotas > AWS Lambda > Concurrent executions) or lower "
            f"reserved_concurrency for api_handler in .chalice/config.json (and ThrottlingBurstLimit "
            f"in infra/params/<stage>.json with it)."
        )
