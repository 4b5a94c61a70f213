"""The deploy, outputs and destroy workflows, and `python -m tools.admin.deploy`'s argparse main."""
import argparse
import json
import os
import sys
from pathlib import Path

from . import __doc__ as PACKAGE_DOC
from .frontend import delete_keys, empty_bucket, invalidate, list_keys, upload_frontend
from .packaging import artifacts_bucket_name, build_wheelhouse, ensure_bucket, package, upload_app_artifacts
from .settings import (AWS_ERRORS, BUILD, EDGE_REGION, INFRA, DeployError, aws_error, chalice_stage_config,
                       check_concurrency_quota, load_stage_params, reserved_concurrency, stack_names)
from .stacks import CAPABILITIES, delete_stack, deploy_stack, describe_stack, stack_outputs


def invoke_function(lambda_client, function_name: str, payload: dict = None):
    """Invokes a function synchronously and returns its decoded result; a function error
    becomes DeployError with the function's own message."""
    response = lambda_client.invoke(
        FunctionName=function_name, InvocationType="RequestResponse",
        Payload=json.dumps(payload or {}).encode())
    body = response["Payload"].read().decode() or "null"
    try:
        result = json.loads(body)
    except ValueError:
        result = body
    if response.get("FunctionError"):
        if isinstance(result, dict):
            message = f"{result.get('errorType', 'Error')}: {result.get('errorMessage', '')}"
        else:
            message = str(result)
        raise DeployError(f"{function_name} failed: {message}")
    return result


def session(region: str = None):
    """A boto3 session in the region the user asked for: --region, else AWS_REGION, else
    AWS_DEFAULT_REGION, else the AWS profile's (boto3 itself reads only the last two)."""
    import boto3

    aws = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION") or None)
    if not aws.region_name:
        raise DeployError("no AWS region: set AWS_REGION (e.g. AWS_REGION=eu-west-1) or the region "
                          "of your AWS profile, or pass --region")
    return aws


def cloudformation_clients(aws, names: dict) -> dict:
    """{part: the CloudFormation client of the region its stack lives in}: the stage's region,
    but EDGE_REGION for the edge stack."""
    regional, edge = aws.client("cloudformation"), session(EDGE_REGION).client("cloudformation")
    return {part: edge if part == "edge" else regional for part in names}


def deploy_edge_and_frontend(aws, stage: str, params: dict, api_domain_name: str, tags: dict = None,
                             delay: float = 10, infra: Path = INFRA) -> dict:
    """Deploys the edge web ACL (in EDGE_REGION, whatever the stage's region), then the frontend
    stack in the stage's region with that ACL on its distribution; returns the frontend
    stack's outputs."""
    names = stack_names(stage)
    cfn = cloudformation_clients(aws, names)
    status = deploy_stack(cfn["edge"], names["edge"], dict(params["edge"], Stage=stage),
                          template_body=(infra / "edge-waf.yaml").read_text(), tags=tags, delay=delay)
    print(f"deploy: {names['edge']} ({EDGE_REGION}) {status}", file=sys.stderr)
    web_acl_arn = stack_outputs(cfn["edge"], names["edge"])["WebAclArn"]
    frontend_params = dict(params["frontend"], Stage=stage, ApiDomainName=api_domain_name, WebAclArn=web_acl_arn)
    status = deploy_stack(cfn["frontend"], names["frontend"], frontend_params,
                          template_body=(infra / "frontend.yaml").read_text(), tags=tags, delay=delay)
    print(f"deploy: {names['frontend']} {status}", file=sys.stderr)
    return stack_outputs(cfn["frontend"], names["frontend"])


def deploy(stage: str, region: str = None, skip_frontend: bool = False, delay: float = 10,
           alarm_email: str = None) -> dict:
    """Deploys (or updates) the whole stage and returns the outputs worth knowing."""
    aws = session(region)
    region = aws.region_name
    try:
        account = aws.client("sts").get_caller_identity()["Account"]
    except Exception as exc:
        raise DeployError(f"no usable AWS credentials ({exc}); see docs/deploy.md, Prerequisites") from exc
    cfn, s3 = aws.client("cloudformation"), aws.client("s3")
    names, params = stack_names(stage), load_stage_params(stage)
    tags = {"app": "modex", "stage": stage}
    check_concurrency_quota(aws.client("lambda"), reserved_concurrency(stage))

    print(f"deploy: {names['network']} (a new database takes 10-20 minutes)", file=sys.stderr)
    network_params = dict(params["network"], Stage=stage)
    # Left out, the parameter takes the template's default (none) again on every update, so a
    # deploy without the address unsubscribes it: hence ALARM_EMAIL, set once in the environment.
    if alarm_email:
        network_params["AlarmEmail"] = alarm_email
    status = deploy_stack(cfn, names["network"], network_params,
                          template_body=(INFRA / "network-database.yaml").read_text(),
                          capabilities=CAPABILITIES, tags=tags, delay=delay)
    print(f"deploy: {names['network']} {status}", file=sys.stderr)
    network = stack_outputs(cfn, names["network"])

    print(f"deploy: packaging the app for stage {stage}", file=sys.stderr)
    sam_path = package(stage)
    bucket = ensure_bucket(s3, artifacts_bucket_name(account, region), region)
    url = upload_app_artifacts(s3, bucket, stage, sam_path)
    app_params = dict(params["app"], NetworkStackName=names["network"])
    status = deploy_stack(cfn, names["app"], app_params, template_url=url,
                          capabilities=CAPABILITIES, tags=tags, delay=delay)
    print(f"deploy: {names['app']} {status}", file=sys.stderr)
    app = stack_outputs(cfn, names["app"])

    print("deploy: applying migrations", file=sys.stderr)
    migrated = invoke_function(aws.client("lambda"), app["MigrateFunctionName"])
    print(f"deploy: migrate -> {json.dumps(migrated)}", file=sys.stderr)

    summary = {
        "stage": stage,
        "region": region,
        "ApiUrl": app.get("ApiUrl"),
        "APIHandlerFunctionName": app.get("APIHandlerFunctionName"),
        "CreateShowFunctionName": app.get("CreateShowFunctionName"),
        "MigrateFunctionName": app.get("MigrateFunctionName"),
        "DatabaseSecretArn": network.get("DatabaseSecretArn"),
        "ProxyEndpoint": network.get("ProxyEndpoint"),
    }
    if not skip_frontend:
        frontend = deploy_edge_and_frontend(aws, stage, params, app["ApiDomainName"], tags, delay)
        published = upload_frontend(s3, frontend["SiteBucketName"], stage)
        print(f"deploy: published {len(published)} files", file=sys.stderr)
        invalidate(aws.client("cloudfront"), frontend["DistributionId"])
        summary.update(SiteURL=frontend["SiteURL"], DistributionId=frontend["DistributionId"])
    out = BUILD / stage / "outputs.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def outputs(stage: str, region: str = None) -> dict:
    names = stack_names(stage)
    cfn = cloudformation_clients(session(region), names)
    merged = {}
    for part, name in names.items():
        if describe_stack(cfn[part], name) is not None:
            merged.update(stack_outputs(cfn[part], name))
    if not merged:
        raise DeployError(f"nothing of stage {stage} is deployed")
    return merged


def destroy(stage: str, region: str = None, disable_deletion_protection: bool = False, delay: float = 10) -> None:
    """Deletes the stage's stacks in reverse order. The database leaves a final snapshot
    (DeletionPolicy: Snapshot); delete it by hand once it is no longer wanted."""
    aws = session(region)
    s3, names = aws.client("s3"), stack_names(stage)
    cfn = cloudformation_clients(aws, names)
    network = describe_stack(cfn["network"], names["network"])
    # Checked before anything is deleted: refusing half-way would leave the stage without its app.
    network_params = {p["ParameterKey"]: p["ParameterValue"] for p in (network or {}).get("Parameters", [])}
    protected = network_params.get("DeletionProtection") == "true"
    if protected and not disable_deletion_protection:
        raise DeployError(f"the {stage} database has deletion protection, so nothing was deleted; run again "
                          f"with --disable-deletion-protection (a final snapshot is still taken)")
    if describe_stack(cfn["frontend"], names["frontend"]) is not None:
        bucket = stack_outputs(cfn["frontend"], names["frontend"]).get("SiteBucketName")
        if bucket:
            empty_bucket(s3, bucket)
    # The edge ACL after the distribution that uses it: WAF refuses to delete an ACL in use.
    for part in ("frontend", "edge", "app", "network"):
        if part == "network" and protected:
            instance = stack_outputs(cfn["network"], names["network"]).get("DatabaseInstanceId")
            aws.client("rds").modify_db_instance(
                DBInstanceIdentifier=instance, DeletionProtection=False, ApplyImmediately=True)
        if delete_stack(cfn[part], names[part], delay=delay):
            print(f"destroy: {names[part]} deleted", file=sys.stderr)
        else:
            print(f"destroy: {names[part]} is not deployed: nothing to delete", file=sys.stderr)
    if network is not None:
        print("destroy: the database's final snapshot is kept (RDS console, Snapshots)", file=sys.stderr)
    try:
        account = aws.client("sts").get_caller_identity()["Account"]
        bucket = artifacts_bucket_name(account, aws.region_name)
        delete_keys(s3, bucket, list_keys(s3, bucket, prefix=f"modex/{stage}/"))
    except AWS_ERRORS:  # the artifacts bucket is shared by stages and may not exist: nothing to do
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.admin.deploy", description=PACKAGE_DOC.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("wheelhouse", help="download Linux wheels of requirements.txt into build/wheelhouse")
    for name in ("package", "deploy", "outputs", "destroy"):
        command = commands.add_parser(name)
        command.add_argument("--stage", default=os.environ.get("STAGE", "dev"))
        if name != "package":
            command.add_argument("--region", default=None)
        if name == "package":
            command.add_argument("--out", type=Path, default=None, help="default build/<stage>")
        if name == "deploy":
            command.add_argument("--skip-frontend", action="store_true")
            command.add_argument("--alarm-email", default=os.environ.get("ALARM_EMAIL") or None,
                                 help="subscribe this address to the stage's alarms (default $ALARM_EMAIL)")
        if name == "destroy":
            command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
            command.add_argument("--disable-deletion-protection", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "wheelhouse":
            print(build_wheelhouse())
        elif args.command == "package":
            chalice_stage_config(args.stage)
            sam = package(args.stage, args.out)
            size = (sam.parent / "deployment.zip").stat().st_size
            print(f"{sam} ({size // 1024} KiB deployment.zip)")
        elif args.command == "deploy":
            print(json.dumps(deploy(args.stage, args.region, args.skip_frontend, alarm_email=args.alarm_email),
                             indent=2))
        elif args.command == "outputs":
            print(json.dumps(outputs(args.stage, args.region), indent=2, sort_keys=True))
        elif args.command == "destroy":
            if not args.yes:
                if not sys.stdin.isatty():
                    raise DeployError("destroy needs --yes when not run from a terminal")
                answer = input(f"Delete every Modex {args.stage} stack (the database keeps a final snapshot)? "
                               f"Type the stage name to confirm: ")
                if answer.strip() != args.stage:
                    print("destroy: cancelled", file=sys.stderr)
                    return 1
            destroy(args.stage, args.region, args.disable_deletion_protection)
    except DeployError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1
    except AWS_ERRORS as error:  # where no step says more: expired credentials, no network, ...
        print(f"{args.command}: {aws_error(error)}; check your AWS credentials and region "
              f"(docs/deploy.md, Prerequisites)", file=sys.stderr)
        return 1
    return 0
