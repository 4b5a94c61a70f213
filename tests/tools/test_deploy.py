"""tools/admin/deploy/ against moto: frontend publishing (content types, cache headers, the
stage's config.js), CloudFront invalidation, stacks and their outputs and events, migrate
invocation, the region, the us-east-1 edge stack and its ACL on the frontend, the alarm address,
destroy's order and answers, and AWS errors as one line each."""
import io
import json
import os
import re
import subprocess
from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from tests.support.cfn import load_template
from tools.admin.deploy import cli, frontend, packaging, settings, stacks

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with mock_aws():
        yield


# ------------------------------------------------------------------- pure pieces


@pytest.mark.parametrize("key, kind, cache", [
    ("index.html", "text/html; charset=utf-8", "no-cache"),
    ("config.js", "text/javascript; charset=utf-8", "no-cache"),
    ("js/app.js", "text/javascript; charset=utf-8", "public, max-age=300"),
    ("css/site.css", "text/css; charset=utf-8", "public, max-age=300"),
    ("js/app.3f2a9c1b.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
    ("img/logo-0123456789abcdef.svg", "image/svg+xml", "public, max-age=31536000, immutable"),
    ("favicon.ico", "image/x-icon", "public, max-age=300"),
    ("fonts/a.woff2", "font/woff2", "public, max-age=300"),
])
def test_content_type_and_cache_control(key, kind, cache):
    assert frontend.content_type(key) == kind
    assert frontend.cache_control(key) == cache


def test_config_js_points_at_the_same_origin_api():
    text = frontend.render_config_js("prod")
    assert text.startswith("window.MODEX_CONFIG = {") and text.endswith(";\n")
    config = json.loads(text[len("window.MODEX_CONFIG = "):-2])
    assert config == {"apiBase": "/api", "stage": "prod"}


def test_stage_names_and_parameters():
    assert settings.stack_names("dev") == {
        "network": "modex-dev-network", "app": "modex-dev-app", "edge": "modex-dev-edge",
        "frontend": "modex-dev-frontend"}
    prod = settings.load_stage_params("prod")
    assert prod["network"]["MultiAZ"] == "true" and prod["network"]["DeletionProtection"] == "true"
    assert settings.load_stage_params("nosuchstage") == {"network": {}, "app": {}, "edge": {}, "frontend": {}}
    assert settings.reserved_concurrency("dev") > 0


class StubLambda:
    def __init__(self, limit=1000, payload=b"{}", function_error=None):
        self.limit, self.payload, self.function_error = limit, payload, function_error
        self.invoked = []

    def get_account_settings(self):
        return {"AccountLimit": {"ConcurrentExecutions": self.limit}}

    def invoke(self, **request):
        self.invoked.append(request)
        response = {"StatusCode": 200, "Payload": io.BytesIO(self.payload)}
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


def test_concurrency_quota_too_small_fails_early_with_the_fix():
    with pytest.raises(settings.DeployError, match="quota is 10.*reserved_concurrency"):
        settings.check_concurrency_quota(StubLambda(limit=10), 100)
    settings.check_concurrency_quota(StubLambda(limit=1000), 100)
    settings.check_concurrency_quota(StubLambda(limit=10), 0)


def test_invoke_function_returns_result_or_raises_its_error():
    stub = StubLambda(payload=b'{"applied": ["001_initial"]}')
    assert cli.invoke_function(stub, "modex-dev-app-Migrate-X") == {"applied": ["001_initial"]}
    assert stub.invoked[0]["InvocationType"] == "RequestResponse"
    failing = StubLambda(payload=b'{"errorType": "Unavailable", "errorMessage": "database down"}',
                         function_error="Unhandled")
    with pytest.raises(settings.DeployError, match="Unavailable: database down"):
        cli.invoke_function(failing, "F")


# ----------------------------------------------------------------------- frontend


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "frontend"
    for name, text in {
        "index.html": "<!doctype html><title>Modex</title>",
        "js/app.js": "import './api.js';",
        "js/api.js": "export {};",
        "css/site.css": "body{}",
        "img/logo.0123abcd.svg": "<svg/>",
        "config.js": "window.MODEX_CONFIG = {apiBase: 'http://localhost'};",  # local only
        ".DS_Store": "junk",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_upload_frontend_sets_types_and_cache_headers(site):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="site")
    s3.put_object(Bucket="site", Key="js/old.js", Body=b"stale")
    published = frontend.upload_frontend(s3, "site", "dev", site)
    assert published == ["config.js", "css/site.css", "img/logo.0123abcd.svg", "index.html", "js/api.js", "js/app.js"]
    assert sorted(frontend.list_keys(s3, "site")) == published  # stale object removed, dotfile skipped
    expected = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "config.js": ("text/javascript; charset=utf-8", "no-cache"),
        "js/app.js": ("text/javascript; charset=utf-8", "public, max-age=300"),
        "css/site.css": ("text/css; charset=utf-8", "public, max-age=300"),
        "img/logo.0123abcd.svg": ("image/svg+xml", "public, max-age=31536000, immutable"),
    }
    for key, (kind, cache) in expected.items():
        head = s3.head_object(Bucket="site", Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (kind, cache), key
    config = s3.get_object(Bucket="site", Key="config.js")["Body"].read().decode()
    assert config == frontend.render_config_js("dev")  # the stage's, not the local file


def test_upload_frontend_without_index_refuses(tmp_path):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="site")
    (tmp_path / "a.css").write_text("")
    with pytest.raises(settings.DeployError, match="index.html"):
        frontend.upload_frontend(s3, "site", "dev", tmp_path)


def test_empty_bucket_removes_objects_and_versions():
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="site")
    s3.put_bucket_versioning(Bucket="site", VersioningConfiguration={"Status": "Enabled"})
    for _ in range(2):
        s3.put_object(Bucket="site", Key="index.html", Body=b"x")
    s3.delete_object(Bucket="site", Key="index.html")
    s3.put_object(Bucket="site", Key="a.js", Body=b"x")
    frontend.empty_bucket(s3, "site")
    versions = s3.list_object_versions(Bucket="site")
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    s3.delete_bucket(Bucket="site")  # what CloudFormation will do


def test_artifacts_bucket_is_created_private_once():
    s3 = boto3.client("s3", region_name=REGION)
    name = packaging.artifacts_bucket_name("123456789012", REGION)
    assert packaging.ensure_bucket(s3, name, REGION) == name
    assert packaging.ensure_bucket(s3, name, REGION) == name
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    eu = boto3.client("s3", region_name="eu-west-1")
    packaging.ensure_bucket(eu, "modex-artifacts-x-eu-west-1", "eu-west-1")
    assert eu.get_bucket_location(Bucket="modex-artifacts-x-eu-west-1")["LocationConstraint"] == "eu-west-1"


def test_upload_app_artifacts_rewrites_code_uri(tmp_path):
    (tmp_path / "deployment.zip").write_bytes(b"PK zip bytes")
    (tmp_path / "sam.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  APIHandler:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: ./deployment.zip, Handler: app.app, Runtime: python3.11}\n")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="artifacts")
    url = packaging.upload_app_artifacts(s3, "artifacts", "dev", tmp_path / "sam.yaml")
    key = url.split("/artifacts/", 1)[1]
    assert url.startswith("https://s3.amazonaws.com/artifacts/modex/dev/templates/")
    template = json.loads(s3.get_object(Bucket="artifacts", Key=key)["Body"].read())
    code = template["Resources"]["APIHandler"]["Properties"]["CodeUri"]
    assert code["Bucket"] == "artifacts" and code["Key"].startswith("modex/dev/code/")
    assert s3.get_object(Bucket="artifacts", Key=code["Key"])["Body"].read() == b"PK zip bytes"


def test_invalidate_cloudfront():
    cloudfront = boto3.client("cloudfront", region_name=REGION)
    distribution = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "test",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "site", "DomainName": "site.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })["Distribution"]
    invalidation_id = frontend.invalidate(cloudfront, distribution["Id"])
    invalidation = cloudfront.get_invalidation(DistributionId=distribution["Id"], Id=invalidation_id)["Invalidation"]
    assert invalidation["InvalidationBatch"]["Paths"]["Items"] == ["/*"]


# ------------------------------------------------------------------------- stacks

TEMPLATE = """
Parameters:
  Suffix: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "modex-test-${Suffix}"
Outputs:
  BucketName:
    Value: !Ref Bucket
    Export: {Name: !Sub "${AWS::StackName}-BucketName"}
  Suffix:
    Value: !Ref Suffix
"""


def test_deploy_stack_creates_updates_and_reads_outputs():
    cfn = boto3.client("cloudformation", region_name=REGION)
    with pytest.raises(settings.DeployError, match="not deployed"):
        stacks.stack_outputs(cfn, "modex-dev-network")
    status = stacks.deploy_stack(cfn, "modex-dev-network", {"Suffix": "one"}, template_body=TEMPLATE,
                                 tags={"app": "modex"}, delay=1)
    assert status == "created"
    assert stacks.stack_outputs(cfn, "modex-dev-network") == {"BucketName": "modex-test-one", "Suffix": "one"}
    status = stacks.deploy_stack(cfn, "modex-dev-network", {"Suffix": "two"}, template_body=TEMPLATE, delay=1)
    assert status == "updated"
    assert stacks.stack_outputs(cfn, "modex-dev-network")["Suffix"] == "two"
    assert stacks.delete_stack(cfn, "modex-dev-network", delay=1) is True
    assert stacks.describe_stack(cfn, "modex-dev-network") is None
    assert stacks.delete_stack(cfn, "modex-dev-network", delay=1) is False


def test_deploy_stack_from_a_template_url():
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="t.yaml", Body=TEMPLATE.encode())
    cfn = boto3.client("cloudformation", region_name=REGION)
    url = packaging.template_url(s3, "artifacts", "t.yaml")
    assert stacks.deploy_stack(cfn, "modex-dev-app", {"Suffix": "u"}, template_url=url, delay=1) == "created"
    assert stacks.stack_outputs(cfn, "modex-dev-app")["BucketName"] == "modex-test-u"


class StubCfn:
    """A CloudFormation that has nothing to update (moto always finds something)."""

    class exceptions:
        ClientError = RuntimeError

    def describe_stacks(self, StackName):
        return {"Stacks": [{"StackName": StackName, "StackId": f"id-{StackName}", "StackStatus": "UPDATE_COMPLETE"}]}

    def describe_stack_events(self, StackName):
        return {"StackEvents": []}

    def update_stack(self, **request):
        raise RuntimeError("An error occurred (ValidationError) when calling the UpdateStack operation: "
                           "No updates are to be performed.")


def test_deploy_stack_without_changes_is_unchanged():
    assert stacks.deploy_stack(StubCfn(), "modex-dev-frontend", {}, template_body="{}", delay=1) == "unchanged"


def test_wheelhouse_env_is_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "someone")
    (tmp_path / "pg8000-1.31.6-py3-none-any.whl").write_bytes(b"")
    env = packaging.wheelhouse_env(tmp_path)
    assert env["AWS_EC2_METADATA_DISABLED"] == "true" and env["AWS_DEFAULT_REGION"]
    assert env["PIP_NO_INDEX"] == "1" and env["PIP_FIND_LINKS"] == str(tmp_path)
    assert "AWS_PROFILE" not in env
    assert "PIP_NO_INDEX" not in packaging.wheelhouse_env(tmp_path / "empty")


def test_cli_destroy_refuses_without_confirmation(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli.main(["destroy", "--stage", "dev"]) == 1
    assert "--yes" in capsys.readouterr().err


def test_outputs_merges_the_stage_stacks():
    cfn = boto3.client("cloudformation", region_name=REGION)
    stacks.deploy_stack(cfn, "modex-qa-network", {"Suffix": "qa"}, template_body=TEMPLATE, delay=1)
    assert cli.outputs("qa", REGION) == {"BucketName": "modex-test-qa", "Suffix": "qa"}
    with pytest.raises(settings.DeployError):
        cli.outputs("nothing", REGION)


# ------------------------------------------------------------------------- region


@pytest.fixture
def aws_config(tmp_path, monkeypatch):
    """An AWS config file of the test's own, so the developer's ~/.aws/config stays out."""
    path = tmp_path / "aws-config"
    path.write_text("[profile sandbox]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    return path


@pytest.mark.parametrize("environment, argument, region", [
    ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}, None, "eu-west-1"),
    ({"AWS_DEFAULT_REGION": "ap-south-1"}, None, "ap-south-1"),
    ({"AWS_PROFILE": "sandbox"}, None, "eu-central-1"),
    ({"AWS_REGION": "eu-west-1", "AWS_PROFILE": "sandbox"}, "sa-east-1", "sa-east-1"),
])
def test_region_is_the_one_asked_for(aws_config, monkeypatch, environment, argument, region):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert cli.session(argument).region_name == region


def test_no_region_is_one_line_saying_how_to_set_it(aws_config, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert cli.main(["outputs", "--stage", "dev"]) == 1
    assert error_line(capsys).startswith("outputs: no AWS region: set AWS_REGION")


def test_makefile_leaves_the_region_to_the_user():
    """make exports no AWS_DEFAULT_REGION of its own: one would override the profile's region."""
    environment = {name: value for name, value in os.environ.items() if name != "AWS_DEFAULT_REGION"}
    probe = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", 'region-probe: ; @echo "[$$AWS_DEFAULT_REGION]"',
         "region-probe"], cwd=settings.ROOT, env=environment, capture_output=True, text=True, check=True)
    assert probe.stdout == "[]\n"


# ------------------------------------------------------- edge ACL, frontend, network

# Stand-ins for infra/edge-waf.yaml and infra/frontend.yaml (moto creates neither WAF nor
# CloudFront resources), with the real templates' parameters and the outputs the tool reads.
EDGE_TEMPLATE = """
Parameters:
  Stage: {Type: String}
  ClaimRateLimit: {Type: Number, Default: 300}
Resources:
  Bucket: {Type: AWS::S3::Bucket}
Outputs:
  WebAclArn:
    Value: !Sub "arn:aws:wafv2:${AWS::Region}:${AWS::AccountId}:global/webacl/modex-${Stage}-edge/stand-in"
"""
FRONTEND_TEMPLATE = """
Parameters:
  Stage: {Type: String}
  ApiDomainName: {Type: String}
  WebAclArn: {Type: String}
  PriceClass: {Type: String, Default: PriceClass_100}
Resources:
  Bucket: {Type: AWS::S3::Bucket}
Outputs:
  SiteBucketName: {Value: !Ref Bucket}
"""


@pytest.fixture
def stand_in_infra(tmp_path):
    (tmp_path / "edge-waf.yaml").write_text(EDGE_TEMPLATE)
    (tmp_path / "frontend.yaml").write_text(FRONTEND_TEMPLATE)
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "qa.json").write_text(json.dumps({"edge": {"ClaimRateLimit": 500}}))
    return tmp_path


def stack_parameters(cfn, name: str) -> dict:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stacks.describe_stack(cfn, name)["Parameters"]}


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2"])
def test_edge_stack_is_in_us_east_1_and_its_acl_reaches_the_frontend(stand_in_infra, monkeypatch, region):
    monkeypatch.setenv("AWS_REGION", region)
    params = settings.load_stage_params("qa", infra_dir=stand_in_infra)
    frontend_outputs = cli.deploy_edge_and_frontend(cli.session(), "qa", params, "abc123.execute-api.x.amazonaws.com",
                                                    delay=0, infra=stand_in_infra)
    assert frontend_outputs["SiteBucketName"]
    edge = boto3.client("cloudformation", region_name="us-east-1")
    regional = boto3.client("cloudformation", region_name=region)
    assert stacks.describe_stack(regional, "modex-qa-edge") is None
    assert stacks.describe_stack(edge, "modex-qa-frontend") is None
    assert stack_parameters(edge, "modex-qa-edge") == {"Stage": "qa", "ClaimRateLimit": "500"}
    web_acl_arn = stacks.stack_outputs(edge, "modex-qa-edge")["WebAclArn"]
    frontend_parameters = stack_parameters(regional, "modex-qa-frontend")
    assert frontend_parameters["WebAclArn"] == web_acl_arn
    assert frontend_parameters["ApiDomainName"] == "abc123.execute-api.x.amazonaws.com"
    # What the real frontend template accepts: an ACL of CloudFront's scope, from us-east-1.
    pattern = load_template(settings.INFRA / "frontend.yaml")["Parameters"]["WebAclArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, web_acl_arn), web_acl_arn
    # The stage's outputs include the edge's, wherever the stage is.
    assert cli.outputs("qa")["WebAclArn"] == web_acl_arn


@pytest.fixture
def network_parameters(monkeypatch):
    """Stops `deploy` at its first stack, keeping the parameters it gave it."""
    given = {}

    def deploy_stack(cfn, name, parameters, **kwargs):
        given.update(parameters)
        raise settings.DeployError(f"stopped at {name}")

    monkeypatch.setattr(cli, "check_concurrency_quota", lambda *args: None)  # moto lacks the call
    monkeypatch.setattr(cli, "deploy_stack", deploy_stack)
    monkeypatch.delenv("ALARM_EMAIL", raising=False)
    return given


@pytest.mark.parametrize("arguments, environment, address", [
    ([], None, None),
    (["--alarm-email", "ops@example.com"], None, "ops@example.com"),
    ([], "oncall@example.com", "oncall@example.com"),
    (["--alarm-email", "ops@example.com"], "oncall@example.com", "ops@example.com"),
])
def test_alarm_email_reaches_the_network_stack_when_given(network_parameters, monkeypatch, capsys,
                                                          arguments, environment, address):
    if environment:
        monkeypatch.setenv("ALARM_EMAIL", environment)
    assert cli.main(["deploy", "--stage", "dev", *arguments]) == 1
    assert error_line(capsys) == "deploy: stopped at modex-dev-network"
    assert network_parameters["Stage"] == "dev"
    assert network_parameters.get("AlarmEmail") == address


# ----------------------------------------------------------------- destroy, errors

STAGE_TEMPLATE = """
Parameters:
  DeletionProtection: {Type: String, Default: "false"}
  DatabaseInstanceId: {Type: String, Default: ""}
Resources:
  Bucket: {Type: AWS::S3::Bucket}
Outputs:
  DatabaseInstanceId: {Value: !Ref DatabaseInstanceId}
"""


def stack_cloudformation(part: str, region: str):
    """A client where the tool puts that stack: the stage's region, the edge's always us-east-1."""
    return boto3.client("cloudformation", region_name=settings.EDGE_REGION if part == "edge" else region)


def deploy_stage(stage: str, region: str = REGION, **network_params) -> dict:
    """The stage's stacks, as stand-ins, each in its region; returns their names."""
    names = settings.stack_names(stage)
    for part, name in names.items():
        stacks.deploy_stack(stack_cloudformation(part, region), name, network_params if part == "network" else {},
                            template_body=STAGE_TEMPLATE, delay=0)
    return names


def deployed(names: dict, region: str = REGION) -> set:
    return {name for part, name in names.items()
            if stacks.describe_stack(stack_cloudformation(part, region), name) is not None}


def error_line(capsys) -> str:
    """The tool's last words on stderr, after any progress lines: the error, and no traceback."""
    lines = capsys.readouterr().err.splitlines()
    assert lines and not any(line.startswith(("Traceback", "  File ")) for line in lines), lines
    return lines[-1]


def test_destroy_of_a_protected_database_deletes_nothing_until_told(capsys):
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_instance(DBInstanceIdentifier="modex-prod-db", DBInstanceClass="db.t4g.micro",
                           Engine="postgres", MasterUsername="modex", MasterUserPassword="password1234",
                           AllocatedStorage=20, DeletionProtection=True)
    names = deploy_stage("prod", DeletionProtection="true", DatabaseInstanceId="modex-prod-db")
    capsys.readouterr()
    assert cli.main(["destroy", "--stage", "prod", "--yes"]) == 1
    assert deployed(names) == set(names.values())
    assert "nothing was deleted" in error_line(capsys)

    assert cli.main(["destroy", "--stage", "prod", "--yes", "--disable-deletion-protection"]) == 0
    assert deployed(names) == set()
    database = rds.describe_db_instances(DBInstanceIdentifier="modex-prod-db")["DBInstances"][0]
    assert database["DeletionProtection"] is False


def test_destroy_deletes_the_us_east_1_edge_after_the_frontend_and_then_says_nothing_is_left(monkeypatch, capsys):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # the edge stack is in us-east-1 all the same
    names = deploy_stage("qa", region="eu-west-1")
    capsys.readouterr()
    assert cli.main(["destroy", "--stage", "qa", "--yes"]) == 0
    assert deployed(names, "eu-west-1") == set()
    assert [line for line in capsys.readouterr().err.splitlines() if line.startswith("destroy: ")] == [
        f"destroy: {names[part]} deleted" for part in ("frontend", "edge", "app", "network")] + [
        "destroy: the database's final snapshot is kept (RDS console, Snapshots)"]
    assert cli.main(["destroy", "--stage", "qa", "--yes"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"destroy: {names[part]} is not deployed: nothing to delete" for part in ("frontend", "edge", "app", "network")]


def refuse(monkeypatch, service: str, operation: str, code: str, message: str = "not authorized"):
    """Makes every client the deploy tool creates answer `operation` with an AWS error."""
    def raise_error(**kwargs):
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation)

    real_session = cli.session

    def session(region=None):
        aws = real_session(region)
        aws.events.register(f"before-call.{service}.{operation}", raise_error)
        return aws

    monkeypatch.setattr(cli, "session", session)


def test_quota_check_refused_is_one_line(monkeypatch, capsys):
    refuse(monkeypatch, "lambda", "GetAccountSettings", "AccessDeniedException")
    assert cli.main(["deploy", "--stage", "dev"]) == 1
    line = error_line(capsys)
    assert "AccessDeniedException: not authorized" in line and "lambda:GetAccountSettings" in line


def test_create_stack_refused_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(cli, "check_concurrency_quota", lambda *args: None)  # moto lacks the call
    refuse(monkeypatch, "cloudformation", "CreateStack", "LimitExceededException", "Too many stacks")
    assert cli.main(["deploy", "--stage", "dev"]) == 1
    line = error_line(capsys)
    assert line.startswith("deploy: modex-dev-network: CloudFormation refused to create the stack")
    assert "LimitExceededException: Too many stacks" in line and "deploy again" in line


def test_delete_stack_refused_is_one_line(monkeypatch, capsys):
    names = deploy_stage("qa")
    capsys.readouterr()
    refuse(monkeypatch, "cloudformation", "DeleteStack", "AccessDenied")
    assert cli.main(["destroy", "--stage", "qa", "--yes"]) == 1
    line = error_line(capsys)
    assert line.startswith("destroy: modex-qa-frontend: CloudFormation refused to delete the stack")
    assert "AccessDenied: not authorized" in line and "destroy again" in line
    assert deployed(names) == set(names.values())


def test_any_other_aws_error_is_one_line(monkeypatch, capsys):
    refuse(monkeypatch, "cloudformation", "DescribeStacks", "ExpiredToken", "The security token\nhas expired")
    assert cli.main(["outputs", "--stage", "dev"]) == 1
    assert error_line(capsys) == ("outputs: ExpiredToken: The security token has expired; "
                                      "check your AWS credentials and region (docs/deploy.md, Prerequisites)")


# ------------------------------------------------------------------- stack events


def event_lines(err: str) -> list:
    """The event lines of the tool's output, split into time, logical id, type, status, reason."""
    return [line.split(None, 4) for line in err.splitlines() if line.startswith("  ")]


def test_stack_events_show_each_operation_its_own(capsys):
    cfn = boto3.client("cloudformation", region_name=REGION)
    stacks.deploy_stack(cfn, "modex-dev-network", {"Suffix": "one"}, template_body=TEMPLATE, delay=0)
    created = event_lines(capsys.readouterr().err)
    assert [(e[1], e[2], e[3]) for e in created][-1] == (
        "modex-dev-network", "AWS::CloudFormation::Stack", "CREATE_COMPLETE")
    assert created[0][3] == "CREATE_IN_PROGRESS"
    stacks.deploy_stack(cfn, "modex-dev-network", {"Suffix": "two"}, template_body=TEMPLATE, delay=0)
    updated = [e[3] for e in event_lines(capsys.readouterr().err)]
    assert updated and all(status.startswith("UPDATE_") for status in updated), updated
    stacks.delete_stack(cfn, "modex-dev-network", delay=0)
    deleted = [e[3] for e in event_lines(capsys.readouterr().err)]
    assert deleted and deleted[-1] == "DELETE_COMPLETE" and all(s.startswith("DELETE_") for s in deleted)


def stack_event(number: int, logical_id: str, kind: str, status: str, reason: str = None) -> dict:
    event = {"StackId": "stack-id", "StackName": "modex-dev-network", "EventId": f"event-{number}",
             "LogicalResourceId": logical_id, "ResourceType": kind, "ResourceStatus": status,
             "Timestamp": datetime(2030, 5, 1, 12, 0, number, tzinfo=timezone.utc)}
    if reason:
        event["ResourceStatusReason"] = reason
    return event


def test_stack_events_are_shown_as_they_come(capsys):
    stack_started = stack_event(1, "modex-dev-network", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS",
                                "User Initiated")
    database_started = stack_event(2, "Database", "AWS::RDS::DBInstance", "CREATE_IN_PROGRESS",
                                   "Resource creation Initiated")
    stack_done = stack_event(3, "modex-dev-network", "AWS::CloudFormation::Stack", "CREATE_COMPLETE")
    cfn = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(cfn)
    stubber.add_client_error("describe_stacks", "ValidationError", "Stack with id modex-dev-network does not exist")
    stubber.add_response("create_stack", {"StackId": "stack-id"})
    for status, events, more in [("CREATE_IN_PROGRESS", [stack_started], {}),
                                 # the second page is never asked for: it holds only events shown
                                 ("CREATE_COMPLETE", [stack_done, database_started, stack_started],
                                  {"NextToken": "older"})]:
        stubber.add_response("describe_stacks", {"Stacks": [{
            "StackName": "modex-dev-network", "StackId": "stack-id", "StackStatus": status,
            "CreationTime": datetime(2030, 5, 1, tzinfo=timezone.utc)}]}, {"StackName": "stack-id"})
        stubber.add_response("describe_stack_events", {"StackEvents": events, **more}, {"StackName": "stack-id"})
    with stubber:
        assert stacks.deploy_stack(cfn, "modex-dev-network", {}, template_body="{}", delay=0) == "created"
    stubber.assert_no_pending_responses()
    local_time = "{:%H:%M:%S}".format
    assert event_lines(capsys.readouterr().err) == [
        [local_time(stack_started["Timestamp"].astimezone()), "modex-dev-network", "AWS::CloudFormation::Stack",
         "CREATE_IN_PROGRESS", "User Initiated"],
        [local_time(database_started["Timestamp"].astimezone()), "Database", "AWS::RDS::DBInstance",
         "CREATE_IN_PROGRESS", "Resource creation Initiated"],
        [local_time(stack_done["Timestamp"].astimezone()), "modex-dev-network", "AWS::CloudFormation::Stack",
         "CREATE_COMPLETE"],
    ]
