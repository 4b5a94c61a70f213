"""Package, deploy and tear down Modex on AWS with CloudFormation.

    python -m tools.admin.deploy wheelhouse               # Linux wheels for the Lambda package (needs PyPI)
    python -m tools.admin.deploy package --stage dev      # build/dev/sam.yaml + deployment.zip, offline
    python -m tools.admin.deploy deploy  --stage dev      # network, app, migrate, frontend, invalidate
    python -m tools.admin.deploy outputs --stage dev      # the deployed stage's outputs as JSON
    python -m tools.admin.deploy destroy --stage dev      # everything but the database's final snapshot

Three stacks per stage (docs/deploy.md explains the split):
  modex-<stage>-network   infra/network-database.yaml: VPC, Secrets Manager endpoint, RDS, proxy
  modex-<stage>-app       `chalice package` output merged with infra/chalice-merge.yaml
  modex-<stage>-frontend  infra/frontend.yaml: private bucket + CloudFront, /api/* to the API
Per-stage parameters live in infra/params/<stage>.json. Every AWS call goes through a boto3
client passed in, so the pieces are testable with moto.
"""
import argparse
import hashlib
import json
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BUILD = ROOT / "build"
WHEELHOUSE = BUILD / "wheelhouse"
FRONTEND = ROOT / "frontend"
# The Lambda runtime's platform; chalice picks the runtime from the local Python version.
WHEEL_PLATFORM = "manylinux2014_x86_64"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # IAM roles; the SAM transform
# AWS refuses a reservation that leaves fewer than this many unreserved executions.
MIN_UNRESERVED_CONCURRENCY = 100


class DeployError(Exception):
    """A deployment step failed in a way the user can act on; the message says how."""


# ------------------------------------------------------------------ stage settings


def stack_names(stage: str) -> dict:
    return {
        "network": f"modex-{stage}-network",
        "app": f"modex-{stage}-app",
        "frontend": f"modex-{stage}-frontend",
    }


def load_stage_params(stage: str, infra_dir: Path = INFRA) -> dict:
    """`infra/params/<stage>.json`: {"network": {...}, "app": {...}, "frontend": {...}}.

    Values are CloudFormation parameter values (strings); a missing file means defaults.
    """
    path = infra_dir / "params" / f"{stage}.json"
    params = {"network": {}, "app": {}, "frontend": {}}
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
    limit = lambda_client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    if reserved + MIN_UNRESERVED_CONCURRENCY > limit:
        raise DeployError(
            f"the API function reserves {reserved} concurrent executions, but this account's "
            f"Lambda concurrency quota is {limit} and AWS keeps {MIN_UNRESERVED_CONCURRENCY} unreserved. "
            f"Ask for a higher quota (Service Quotas > AWS Lambda > Concurrent executions) or lower "
            f"reserved_concurrency for api_handler in .chalice/config.json (and ThrottlingBurstLimit "
            f"in infra/params/<stage>.json with it)."
        )


# ------------------------------------------------------------------------ packaging


def wheelhouse_env(wheelhouse: Path = WHEELHOUSE) -> dict:
    """Environment for an offline `chalice package`: no AWS calls, no metadata probe, and pip
    limited to the wheelhouse when there is one (field notes)."""
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(name, None)
    env.update(
        AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ACCESS_KEY_ID="packaging-needs-no-credentials",
        AWS_SECRET_ACCESS_KEY="packaging-needs-no-credentials",
    )
    if any(wheelhouse.glob("*.whl")):
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse))
    return env


def build_wheelhouse(requirements: Path = ROOT / "requirements.txt", wheelhouse: Path = WHEELHOUSE) -> Path:
    """Downloads Linux wheels of the runtime requirements for the Lambda's Python (needs PyPI).

    Skipped when the wheelhouse already matches requirements.txt.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stamp = wheelhouse / ".requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes() + version.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and any(wheelhouse.glob("*.whl")):
        return wheelhouse
    wheelhouse.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
         "--platform", WHEEL_PLATFORM, "--implementation", "cp", "--python-version", version,
         "-r", str(requirements), "-d", str(wheelhouse)],
        check=True,
    )
    stamp.write_text(digest)
    return wheelhouse


def chalice_command() -> str:
    candidate = Path(sys.executable).parent / "chalice"
    return str(candidate) if candidate.exists() else (shutil.which("chalice") or "chalice")


def package(stage: str, out_dir: Path = None, project_dir: Path = ROOT,
            merge_template: Path = INFRA / "chalice-merge.yaml", wheelhouse: Path = WHEELHOUSE) -> Path:
    """`chalice package` with the merge template: writes <out_dir>/sam.yaml and deployment.zip."""
    out_dir = Path(out_dir or BUILD / stage)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [chalice_command(), "--project-dir", str(project_dir), "package", "--stage", stage,
         "--template-format", "yaml", "--merge-template", str(merge_template), str(out_dir)],
        env=wheelhouse_env(wheelhouse), capture_output=True, text=True,
    )
    if result.returncode != 0:
        hint = "" if any(Path(wheelhouse).glob("*.whl")) else " (no wheelhouse: run `make wheelhouse` first)"
        raise DeployError(f"chalice package failed{hint}:\n{result.stdout}{result.stderr}")
    return out_dir / "sam.yaml"


def load_yaml_template(path: Path) -> dict:
    """Chalice writes long-form intrinsics (`Fn::Sub:`), so plain YAML reads it."""
    import yaml

    return yaml.safe_load(Path(path).read_text())


def point_code_at_s3(template: dict, bucket: str, key: str) -> dict:
    """Replaces every function's local `CodeUri` with the uploaded zip (what
    `aws cloudformation package` does), in place."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
    return template


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- stacks


def artifacts_bucket_name(account: str, region: str) -> str:
    return f"modex-artifacts-{account}-{region}"


def ensure_bucket(s3, name: str, region: str) -> str:
    """A private bucket for packaged code and templates; created on first use."""
    try:
        s3.head_bucket(Bucket=name)
        return name
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(f"cannot use the artifacts bucket {name}: {exc}") from exc
    create = {"Bucket": name}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [{
        "ID": "expire-old-artifacts", "Status": "Enabled", "Filter": {"Prefix": ""},
        "Expiration": {"Days": 30}}]})
    return name


def upload_app_artifacts(s3, bucket: str, stage: str, sam_path: Path) -> str:
    """Uploads deployment.zip (content-addressed) and the rewritten template; returns the
    template's URL for CloudFormation."""
    sam_path = Path(sam_path)
    zip_path = sam_path.parent / "deployment.zip"
    code_key = f"modex/{stage}/code/{file_sha256(zip_path)}.zip"
    s3.upload_file(str(zip_path), bucket, code_key)
    template = point_code_at_s3(load_yaml_template(sam_path), bucket, code_key)
    body = json.dumps(template, indent=1, sort_keys=True).encode()
    template_key = f"modex/{stage}/templates/app-{hashlib.sha256(body).hexdigest()[:16]}.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body, ContentType="application/json")
    return template_url(s3, bucket, template_key)


def template_url(s3, bucket: str, key: str) -> str:
    region = s3.meta.region_name
    host = "s3.amazonaws.com" if region == "us-east-1" else f"s3.{region}.amazonaws.com"
    return f"https://{host}/{bucket}/{key}"


def describe_stack(cfn, name: str):
    """The stack's description, or None when there is no such (live) stack."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def stack_outputs(cfn, name: str) -> dict:
    """{OutputKey: OutputValue} of a deployed stack."""
    stack = describe_stack(cfn, name)
    if stack is None:
        raise DeployError(f"stack {name} is not deployed (run `make deploy STAGE=...` first)")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def _waiter_config(delay: float) -> dict:
    return {"Delay": max(1, int(delay)), "MaxAttempts": 720}


def failure_events(cfn, name: str, limit: int = 10) -> str:
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except Exception:  # the stack may be gone already; the caller reports what it has
        return ""
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("_FAILED")][:limit]
    return "\n".join(f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in failed)


def deploy_stack(cfn, name: str, parameters: dict, template_body: str = None, template_url: str = None,
                 capabilities=(), tags: dict = None, delay: float = 10) -> str:
    """Creates the stack, or updates it in place, and waits until CloudFormation is done.

    Returns "created", "updated" or "unchanged". A stack left in ROLLBACK_COMPLETE by a failed
    first attempt cannot be updated, so it is deleted and created again.
    """
    stack = describe_stack(cfn, name)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        print(f"deploy: {name} is in ROLLBACK_COMPLETE after a failed create; deleting it first", file=sys.stderr)
        delete_stack(cfn, name, delay=delay)
        stack = None
    request = dict(
        StackName=name,
        Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in sorted(parameters.items())],
        Capabilities=list(capabilities),
        Tags=[{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())],
    )
    if template_url:
        request["TemplateURL"] = template_url
    else:
        request["TemplateBody"] = template_body
    if stack is None:
        cfn.create_stack(OnFailure="ROLLBACK", **request)
        waiter, status = "stack_create_complete", "created"
    else:
        try:
            cfn.update_stack(**request)
        except cfn.exceptions.ClientError as exc:
            if "No updates are to be performed" in str(exc):
                return "unchanged"
            raise DeployError(f"{name}: update refused: {exc}") from exc
        waiter, status = "stack_update_complete", "updated"
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=_waiter_config(delay))
    except Exception as exc:
        raise DeployError(f"{name}: deployment failed:\n{failure_events(cfn, name)}") from exc
    return status


def delete_stack(cfn, name: str, delay: float = 10) -> bool:
    """Deletes a stack and waits; False when there was none."""
    if describe_stack(cfn, name) is None:
        return False
    cfn.delete_stack(StackName=name)
    try:
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=_waiter_config(delay))
    except Exception as exc:
        raise DeployError(f"{name}: delete failed:\n{failure_events(cfn, name)}") from exc
    return True


# ------------------------------------------------------------------------- frontend

# Cache-Control by kind of file. index.html and config.js change on every deploy under the
# same name: browsers revalidate them each time (a cheap 304). Names with a content hash
# (app.3f2a9c1b.js) never change meaning: cache them for a year. Everything else (the
# unhashed ES modules and CSS of a build-less frontend) briefly, so a deploy is seen within
# minutes even by browsers that have it cached; CloudFront's copy is invalidated on deploy.
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
HASHED_NAME = re.compile(r"[.-][0-9a-f]{8,}\.[a-z0-9]+$")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if name.endswith(".html") or name == "config.js":
        return NO_CACHE
    if HASHED_NAME.search(name):
        return IMMUTABLE
    return SHORT


def render_config_js(stage: str, api_base: str = "/api") -> str:
    """The runtime settings the frontend reads from /config.js (same origin: no CORS)."""
    config = {"apiBase": api_base, "stage": stage}
    return f"window.MODEX_CONFIG = {json.dumps(config, sort_keys=True)};\n"


def frontend_files(frontend_dir: Path = FRONTEND) -> dict:
    """{key: path} of the files to publish; a local config.js is replaced by the stage's."""
    files = {}
    for path in sorted(Path(frontend_dir).rglob("*")):
        relative = path.relative_to(frontend_dir)
        if path.is_dir() or any(part.startswith(".") for part in relative.parts):
            continue
        key = relative.as_posix()
        if key == "config.js":
            continue
        files[key] = path
    return files


def upload_frontend(s3, bucket: str, stage: str, frontend_dir: Path = FRONTEND) -> list:
    """Publishes the frontend and the stage's config.js, then removes objects that are no longer
    part of it. Returns the keys published."""
    files = frontend_files(frontend_dir)
    if "index.html" not in files:
        raise DeployError(f"{frontend_dir}/index.html is missing: nothing to publish")
    for key, path in files.items():
        s3.upload_file(str(path), bucket, key, ExtraArgs={
            "ContentType": content_type(key), "CacheControl": cache_control(key)})
    s3.put_object(Bucket=bucket, Key="config.js", Body=render_config_js(stage).encode(),
                  ContentType=content_type("config.js"), CacheControl=cache_control("config.js"))
    published = set(files) | {"config.js"}
    stale = [key for key in list_keys(s3, bucket) if key not in published]
    delete_keys(s3, bucket, stale)
    return sorted(published)


def list_keys(s3, bucket: str, prefix: str = "") -> list:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def delete_keys(s3, bucket: str, keys: list) -> None:
    for start in range(0, len(keys), 1000):
        batch = keys[start:start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})


def empty_bucket(s3, bucket: str) -> None:
    """Deletes every object (and every version, should versioning be on), so that
    CloudFormation can delete the bucket."""
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for page in pages:
            victims = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                       for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if victims:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": victims, "Quiet": True})
    except s3.exceptions.NoSuchBucket:
        return
    delete_keys(s3, bucket, list_keys(s3, bucket))


def invalidate(cloudfront, distribution_id: str, paths=("/*",)) -> str:
    """Asks CloudFront to drop its copies (one wildcard path costs one of the free 1,000 a month)."""
    response = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": f"modex-{time.time_ns()}",
        },
    )
    return response["Invalidation"]["Id"]


# --------------------------------------------------------------------------- invoke


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


# ------------------------------------------------------------------------ workflows


def session(region: str = None):
    import boto3

    return boto3.session.Session(region_name=region)


def deploy(stage: str, region: str = None, skip_frontend: bool = False, delay: float = 10) -> dict:
    """Deploys (or updates) the whole stage and returns the outputs worth knowing."""
    aws = session(region)
    region = aws.region_name
    if not region:
        raise DeployError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or pass --region")
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
        frontend_params = dict(params["frontend"], Stage=stage, ApiDomainName=app["ApiDomainName"])
        status = deploy_stack(cfn, names["frontend"], frontend_params,
                              template_body=(INFRA / "frontend.yaml").read_text(), tags=tags, delay=delay)
        print(f"deploy: {names['frontend']} {status}", file=sys.stderr)
        frontend = stack_outputs(cfn, names["frontend"])
        published = upload_frontend(s3, frontend["SiteBucketName"], stage)
        print(f"deploy: published {len(published)} files", file=sys.stderr)
        invalidate(aws.client("cloudfront"), frontend["DistributionId"])
        summary.update(SiteURL=frontend["SiteURL"], DistributionId=frontend["DistributionId"])
    out = BUILD / stage / "outputs.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def outputs(stage: str, region: str = None) -> dict:
    cfn = session(region).client("cloudformation")
    merged = {}
    for name in stack_names(stage).values():
        if describe_stack(cfn, name) is not None:
            merged.update(stack_outputs(cfn, name))
    if not merged:
        raise DeployError(f"nothing of stage {stage} is deployed")
    return merged


def destroy(stage: str, region: str = None, disable_deletion_protection: bool = False, delay: float = 10) -> None:
    """Deletes the stage's stacks in reverse order. The database leaves a final snapshot
    (DeletionPolicy: Snapshot); delete it by hand once it is no longer wanted."""
    aws = session(region)
    cfn, s3 = aws.client("cloudformation"), aws.client("s3")
    names = stack_names(stage)
    if describe_stack(cfn, names["frontend"]) is not None:
        bucket = stack_outputs(cfn, names["frontend"]).get("SiteBucketName")
        if bucket:
            empty_bucket(s3, bucket)
    for part in ("frontend", "app"):
        if delete_stack(cfn, names[part], delay=delay):
            print(f"destroy: {names[part]} deleted", file=sys.stderr)
    network = describe_stack(cfn, names["network"])
    if network is not None:
        protected = {p["ParameterKey"]: p["ParameterValue"] for p in network.get("Parameters", [])}
        instance = {o["OutputKey"]: o["OutputValue"] for o in network.get("Outputs", [])}.get("DatabaseInstanceId")
        if protected.get("DeletionProtection") == "true":
            if not disable_deletion_protection:
                raise DeployError(
                    f"the {stage} database has deletion protection; run again with "
                    f"--disable-deletion-protection (a final snapshot is still taken)")
            aws.client("rds").modify_db_instance(
                DBInstanceIdentifier=instance, DeletionProtection=False, ApplyImmediately=True)
        delete_stack(cfn, names["network"], delay=delay)
        print(f"destroy: {names['network']} deleted (the database's final snapshot is kept)", file=sys.stderr)
    try:
        account = aws.client("sts").get_caller_identity()["Account"]
        bucket = artifacts_bucket_name(account, aws.region_name)
        delete_keys(s3, bucket, list_keys(s3, bucket, prefix=f"modex/{stage}/"))
    except Exception:  # the artifacts bucket is shared by stages and may not exist: nothing to do
        pass


# ------------------------------------------------------------------------------ CLI


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.admin.deploy", description=__doc__.split("\n")[0])
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
            print(json.dumps(deploy(args.stage, args.region, args.skip_frontend), indent=2))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
