"""tools/admin/deploy/ against moto: frontend publishing (content types, cache headers, the
stage's config.js), CloudFront invalidation, stacks and their outputs, migrate invocation."""
import io
import json

import boto3
import pytest
from moto import mock_aws

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
        "network": "modex-dev-network", "app": "modex-dev-app", "frontend": "modex-dev-frontend"}
    prod = settings.load_stage_params("prod")
    assert prod["network"]["MultiAZ"] == "true" and prod["network"]["DeletionProtection"] == "true"
    assert settings.load_stage_params("nosuchstage") == {"network": {}, "app": {}, "frontend": {}}
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
        return {"Stacks": [{"StackName": StackName, "StackStatus": "UPDATE_COMPLETE"}]}

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
