"""Issue 13's infrastructure, wired as docs/security.md says: the web ACLs and where they sit,
the per-IP claim limit, the origin secret, the security headers on every behaviour, the app
secret and its rotation, the Idempotency-Key secret for the API function alone, one IAM role
per function with only what it needs, method throttles, storage autoscaling, the alarms and
the dashboard."""
import json
import re

import pytest

from chalicelib import config, credentials, schema
from tests.support.cfn import INFRA, ROOT, cfn_lint, load_template
from tools.admin.deploy import packaging

CLAIM_PATHS = ["/api/shows/0b0e6d0c/holds", "/api/shows/0b0e6d0c/bookings", "/api/holds/0b0e6d0c/confirm"]
OTHER_PATHS = ["/api/shows", "/api/shows/0b0e6d0c", "/api/shows/0b0e6d0c/seats", "/api/shows/0b0e6d0c/availability",
               "/api/holds/0b0e6d0c", "/api/bookings/0b0e6d0c", "/api/shows/0b0e6d0c/holds/extra",
               "/api/shows/a/b/holds"]


@pytest.fixture(scope="module")
def edge():
    return load_template(INFRA / "edge-waf.yaml")


@pytest.fixture(scope="module")
def merge():
    return load_template(INFRA / "chalice-merge.yaml")


@pytest.fixture(scope="module")
def frontend():
    return load_template(INFRA / "frontend.yaml")


@pytest.fixture(scope="module")
def network():
    return load_template(INFRA / "network-database.yaml")


def params(stage):
    return json.loads((INFRA / "params" / f"{stage}.json").read_text())


def acl_of(template, name):
    return template["Resources"][name]["Properties"]


def rule(acl, name):
    (found,) = [r for r in acl["Rules"] if r["Name"] == name]
    return found


def body(acl, action):
    response = action["Block"]["CustomResponse"]
    return response["ResponseCode"], json.loads(acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"]), \
        {h["Name"]: h["Value"] for h in response.get("ResponseHeaders", [])}


# ----------------------------------------------------------------------------- WAF

@pytest.mark.parametrize("which", ["edge", "api"])
def test_claims_are_limited_per_address_with_a_contract_shaped_429(which, edge, merge):
    template, name, limit_param = (edge, "EdgeWebAcl", "ClaimRateLimit") if which == "edge" else \
        (merge, "ApiWebAcl", "ClaimRateLimit")
    acl = acl_of(template, name)
    claims = rule(acl, "ClaimsPerIp")
    rate = claims["Statement"]["RateBasedStatement"]
    assert rate["Limit"] == {"Ref": limit_param} and template["Parameters"][limit_param]["Default"] == 300
    assert rate["EvaluationWindowSec"] == 300
    # The edge sees the viewer; behind CloudFront the API must read X-Forwarded-For.
    assert rate["AggregateKeyType"] == ("IP" if which == "edge" else "FORWARDED_IP")
    method, path = rate["ScopeDownStatement"]["AndStatement"]["Statements"]
    assert method["ByteMatchStatement"]["FieldToMatch"] == {"Method": {}}
    assert (method["ByteMatchStatement"]["PositionalConstraint"], method["ByteMatchStatement"]["SearchString"]) == \
        ("EXACTLY", "POST")
    regex = path["RegexMatchStatement"]
    assert regex["FieldToMatch"] == {"UriPath": {}}
    assert [t["Type"] for t in regex["TextTransformations"]] == ["URL_DECODE", "NORMALIZE_PATH"]
    for claim in CLAIM_PATHS:
        assert re.search(regex["RegexString"], claim), claim
    for other in OTHER_PATHS:
        assert not re.search(regex["RegexString"], other), other
    status, answer, headers = body(acl, claims["Action"])
    assert status == 429 and answer["error"] == "THROTTLED" and set(answer) == {"error", "message"}
    assert int(headers["Retry-After"]) > 0 and headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("which", ["edge", "api"])
def test_managed_rule_groups_block_with_a_contract_shaped_403(which, edge, merge):
    acl = acl_of(edge, "EdgeWebAcl") if which == "edge" else acl_of(merge, "ApiWebAcl")
    groups = {r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r for r in acl["Rules"]
              if "ManagedRuleGroupStatement" in r["Statement"]}
    expected = {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    if which == "edge":  # behind CloudFront the API would only see CloudFront's addresses
        expected.add("AWSManagedRulesAmazonIpReputationList")
    assert set(groups) == expected
    # They label (Count); the block on their labels carries the contract's body.
    assert all(g["OverrideAction"] == {"Count": {}} for g in groups.values())
    blocks = rule(acl, "ManagedRuleBlocks")
    keys = {s["LabelMatchStatement"]["Key"] for s in blocks["Statement"]["OrStatement"]["Statements"]}
    assert {"awswaf:managed:aws:core-rule-set:", "awswaf:managed:aws:known-bad-inputs:"} <= keys
    assert ("awswaf:managed:aws:amazon-ip-list:AWSManagedIPReputationList" in keys) == (which == "edge")
    assert blocks["Priority"] > max(g["Priority"] for g in groups.values())
    status, answer, _ = body(acl, blocks["Action"])
    assert (status, answer["error"]) == (403, "FORBIDDEN")
    assert acl["DefaultAction"] == {"Allow": {}}


def test_edge_acl_is_global_and_on_the_distribution(edge, frontend):
    assert acl_of(edge, "EdgeWebAcl")["Scope"] == "CLOUDFRONT"
    assert edge["Outputs"]["WebAclArn"]["Value"] == {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}
    config = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {"Ref": "WebAclArn"}
    parameter = frontend["Parameters"]["WebAclArn"]
    assert "Default" not in parameter, "the distribution must never run without its ACL"
    pattern = parameter["AllowedPattern"]
    assert re.fullmatch(pattern, "arn:aws:wafv2:us-east-1:123456789012:global/webacl/modex-dev-edge/abc")
    assert not re.fullmatch(pattern, "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/modex-dev-api/abc")


def test_api_acl_is_regional_and_on_the_stage(merge):
    assert acl_of(merge, "ApiWebAcl")["Scope"] == "REGIONAL"
    association = merge["Resources"]["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert association["ResourceArn"]["Fn::Sub"].endswith("::/restapis/${RestAPI}/stages/${RestAPI.Stage}")


def test_the_api_answers_only_requests_that_came_through_cloudfront(merge, frontend, network):
    acl = acl_of(merge, "ApiWebAcl")
    gate = rule(acl, "RequireCloudFront")
    assert gate["Priority"] == min(r["Priority"] for r in acl["Rules"])
    match = gate["Statement"]["NotStatement"]["Statement"]["ByteMatchStatement"]
    header = match["FieldToMatch"]["SingleHeader"]["Name"]
    assert match["PositionalConstraint"] == "EXACTLY"
    reference, variables = match["SearchString"]["Fn::Sub"]
    assert reference == "{{resolve:secretsmanager:${Arn}:SecretString:value}}"
    assert variables["Arn"] == {"Fn::ImportValue": {"Fn::Sub": "${NetworkStackName}-OriginVerifySecretArn"}}
    status, answer, _ = body(acl, gate["Action"])
    assert (status, answer["error"]) == (403, "FORBIDDEN")
    # CloudFront sends that header, from the same secret, to the API origin.
    origins = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    (sent,) = next(o for o in origins if o["Id"] == "api")["OriginCustomHeaders"]
    assert sent["HeaderName"].lower() == header.lower()
    name = network["Resources"]["OriginVerifySecret"]["Properties"]["Name"]["Fn::Sub"]
    assert sent["HeaderValue"] == {"Fn::Sub": "{{resolve:secretsmanager:" + name + ":SecretString:value}}"}
    generated = network["Resources"]["OriginVerifySecret"]["Properties"]["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "value" and generated["PasswordLength"] >= 32
    assert network["Outputs"]["OriginVerifySecretArn"]["Export"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_claim_routes_have_method_throttles_below_the_stage(merge, stage):
    settings = merge["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    claims = {s["ResourcePath"]: s for s in settings if s["HttpMethod"] == "POST"}
    assert set(claims) == {"/~1shows~1{show_id}~1holds", "/~1shows~1{show_id}~1bookings"}
    # The paths are the app's own routes (API Gateway escapes "/" as "~1").
    routes = set(re.findall(r'api_route\("([^"]+)", methods=\["POST"\]\)', (ROOT / "app.py").read_text()))
    assert {path.replace("~1", "/")[1:] for path in claims} <= routes
    for setting in claims.values():
        assert setting["ThrottlingRateLimit"] == {"Ref": "ClaimThrottlingRateLimit"}
        assert setting["ThrottlingBurstLimit"] == {"Ref": "ClaimThrottlingBurstLimit"}
    app = params(stage)["app"]
    assert int(app["ClaimThrottlingRateLimit"]) < int(app["ThrottlingRateLimit"])
    assert 50 <= int(app["ClaimThrottlingBurstLimit"]) < int(app["ThrottlingBurstLimit"]), \
        "a 50-request race must fit, and confirms and reads keep a share"


# ------------------------------------------------------------------------- headers

def test_security_headers_policy_is_on_every_behaviour(frontend):
    config = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b.get("PathPattern") for b in behaviours} >= {None, "/api/*"}
    for behaviour in behaviours:
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"}, behaviour.get("PathPattern")


def test_security_headers_allow_only_the_sites_own_origin(frontend):
    policy = frontend["Resources"]["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = policy["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    directives = {d.split()[0]: d.split()[1:] for d in (part.strip() for part in csp.split(";")) if d}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "base-uri" in directives and "form-action" in directives
    assert not re.search(r"unsafe-|https?:|\*|data:|blob:", csp), "inline code or another origin allowed"
    assert all(part["Override"] is True for part in security.values())
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert "ContentTypeOptions" in security
    assert security["ReferrerPolicy"]["ReferrerPolicy"] in {"no-referrer", "same-origin", "strict-origin-when-cross-origin"}
    custom = {item["Header"]: item["Value"] for item in policy["CustomHeadersConfig"]["Items"]}
    assert "camera=()" in custom["Permissions-Policy"] and "geolocation=()" in custom["Permissions-Policy"]


# ------------------------------------------------------------- least privilege

def test_app_secret_is_rotated_with_alternating_users(network):
    resources = network["Resources"]
    assert network["Transform"] == "AWS::SecretsManager-2020-07-23"
    rotation = resources["AppDatabaseSecretRotation"]["Properties"]
    assert rotation["SecretId"] == {"Ref": "AppDatabaseSecret"}
    hosted = rotation["HostedRotationLambda"]
    assert hosted["RotationType"] == "PostgreSQLMultiUser"
    assert hosted["MasterSecretArn"] == {"Ref": "DatabaseSecret"}
    assert hosted["VpcSecurityGroupIds"] == {"Ref": "RotationSecurityGroup"}
    # The login exists only after the migrate step: no rotation at creation.
    assert rotation["RotateImmediatelyOnUpdate"] is False
    assert "rate(" in rotation["RotationRules"]["ScheduleExpression"]["Fn::Sub"]
    template = resources["AppDatabaseSecret"]["Properties"]["GenerateSecretString"]["SecretStringTemplate"]["Fn::Sub"]
    assert '"masterarn": "${DatabaseSecret}"' in template and '"username": "${AppDatabaseUsername}"' in template
    assert resources["AppDatabaseSecret"]["Properties"]["Name"] == {"Fn::Sub": "modex/${Stage}/app-database"}
    attached = [r["Properties"]["SecretId"] for r in resources.values()
                if r["Type"] == "AWS::SecretsManager::SecretTargetAttachment"]
    assert {"Ref": "AppDatabaseSecret"} in attached  # host: the rotation checks it is the master's
    assert network["Parameters"]["DatabaseUsername"]["Default"] != network["Parameters"]["AppDatabaseUsername"]["Default"]


def test_functions_get_the_app_secret_and_migrate_the_masters(merge):
    env = merge["Globals"]["Function"]["Environment"]["Variables"]
    assert env["DATABASE_SECRET_ARN"] == {"Fn::ImportValue": {"Fn::Sub": "${NetworkStackName}-AppDatabaseSecretArn"}}
    migrate = merge["Resources"]["Migrate"]["Properties"]["Environment"]["Variables"]
    assert migrate == {schema.MIGRATE_SECRET_ENV: {
        "Fn::ImportValue": {"Fn::Sub": "${NetworkStackName}-DatabaseSecretArn"}}}


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request, stand_in_project, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"packaged-{request.param}")
    sam = packaging.package(request.param, out / "sam", project_dir=stand_in_project, wheelhouse=out / "no-wheels")
    return request.param, sam, load_template(sam)


def role_statements(resources, role):
    """Every statement that applies to the role: its inline policies and the policies attached to it."""
    policies = list(resources[role]["Properties"].get("Policies", []))
    policies += [r["Properties"] for r in resources.values()
                 if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]]
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def secrets_readable(resources, role):
    """What the role may read from Secrets Manager: ARN patterns, or references as JSON."""
    return {s["Resource"] if isinstance(s["Resource"], str) else json.dumps(s["Resource"], sort_keys=True)
            for s in role_statements(resources, role) if s["Action"] == "secretsmanager:GetSecretValue"}


IDEMPOTENCY_KEY_SECRET = {"Fn::ImportValue": {"Fn::Sub": "${NetworkStackName}-IdempotencyKeySecretArn"}}


def test_each_function_has_its_own_role_with_only_what_it_needs(packaged):
    stage, sam, template = packaged
    result = cfn_lint(sam)
    assert result.returncode == 0, result.stdout + result.stderr
    resources = template["Resources"]
    functions = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert {"APIHandler", "CreateShow", "CleanUp", "Migrate"} <= set(functions)
    roles = {name: f["Role"]["Fn::GetAtt"][0] for name, f in functions.items()}
    assert len(set(roles.values())) == len(roles), roles

    app_secret = f"arn:aws:secretsmanager:*:*:secret:modex/{stage}/app-database-??????"
    master_secret = f"arn:aws:secretsmanager:*:*:secret:modex/{stage}/database-??????"
    extra = {"Migrate": {master_secret}, "APIHandler": {json.dumps(IDEMPOTENCY_KEY_SECRET, sort_keys=True)}}
    for function, role in roles.items():
        assert secrets_readable(resources, role) == {app_secret} | extra.get(function, set()), function
    for function, role in roles.items():
        actions = {a for s in role_statements(resources, role)
                   for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert not {a for a in actions if a.endswith("*")}, (function, actions)
        assert not {a for a in actions if a.split(":")[0] not in {"logs", "ec2", "secretsmanager"}}, function


def test_idempotency_key_secret_is_generated_in_the_field_the_api_reads(network, monkeypatch):
    secret = network["Resources"]["IdempotencyKeySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["Name"] == {"Fn::Sub": "modex/${Stage}/idempotency-key"}
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated == {"SecretStringTemplate": "{}", "GenerateStringKey": "key", "PasswordLength": 64,
                         "ExcludePunctuation": True}
    assert network["Outputs"]["IdempotencyKeySecretArn"]["Value"] == {"Ref": "IdempotencyKeySecret"}
    # The secret as Secrets Manager will generate it gives chalicelib/config.py its key.
    value = "k" * generated["PasswordLength"]
    stored = dict(json.loads(generated["SecretStringTemplate"]), **{generated["GenerateStringKey"]: value})
    monkeypatch.setattr(credentials, "read_secret", lambda arn: stored)
    assert config.idempotency_key_secret({"IDEMPOTENCY_KEY_SECRET_ARN": "arn:stand-in"}) == value.encode()


def test_only_the_api_function_gets_the_idempotency_key(packaged):
    _, _, template = packaged
    resources = template["Resources"]
    functions = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    given = {name: f["Environment"]["Variables"]["IDEMPOTENCY_KEY_SECRET_ARN"] for name, f in functions.items()
             if "IDEMPOTENCY_KEY_SECRET_ARN" in f["Environment"]["Variables"]}
    assert given == {"APIHandler": IDEMPOTENCY_KEY_SECRET}
    assert "IDEMPOTENCY_KEY_SECRET_ARN" not in template["Globals"]["Function"]["Environment"]["Variables"]
    readers = {name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"
               and json.dumps(IDEMPOTENCY_KEY_SECRET, sort_keys=True) in secrets_readable(resources, name)}
    assert readers == {functions["APIHandler"]["Role"]["Fn::GetAtt"][0]}
    # The API's code goes live only once its role may read the key.
    assert resources["APIHandler"]["DependsOn"] == "ApiHandlerIdempotencyKeyPolicy"


# -------------------------------------------------------- storage and alarms

@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_storage_autoscales_and_alarms_before_it_is_full(network, stage):
    database = network["Resources"]["Database"]["Properties"]
    assert database["MaxAllocatedStorage"] == {"Ref": "MaxAllocatedStorageGiB"}
    values = params(stage)["network"]
    assert int(values["MaxAllocatedStorageGiB"]) >= 2 * int(values["AllocatedStorageGiB"])
    alarm = network["Resources"]["DatabaseFreeStorageAlarm"]["Properties"]
    assert (alarm["MetricName"], alarm["ComparisonOperator"]) == ("FreeStorageSpace", "LessThanThreshold")
    assert alarm["Dimensions"] == [{"Name": "DBInstanceIdentifier", "Value": {"Ref": "Database"}}]


def alarms_of(template):
    return {r["Properties"]["MetricName"]: r["Properties"] for r in template["Resources"].values()
            if r.get("Type") == "AWS::CloudWatch::Alarm"}


def test_alarms_cover_api_throttles_latency_database_and_proxy(network, merge):
    database = alarms_of(network)
    assert {"CPUUtilization", "DatabaseConnections", "FreeStorageSpace",
            "DatabaseConnectionsCurrentlySessionPinned"} <= set(database)
    assert database["DatabaseConnectionsCurrentlySessionPinned"]["Threshold"] == 0
    assert database["DatabaseConnectionsCurrentlySessionPinned"]["Dimensions"] == \
        [{"Name": "ProxyName", "Value": {"Ref": "Proxy"}}]
    for alarm in database.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    api = alarms_of(merge)
    assert {"5XXError", "4XXError", "Latency", "Throttles", "BlockedRequests"} <= set(api)
    assert api["Latency"]["ExtendedStatistic"] == "p99"
    topic = {"Fn::ImportValue": {"Fn::Sub": "${NetworkStackName}-AlarmTopicArn"}}
    for alarm in api.values():
        assert alarm["AlarmActions"] == [topic]
    for name in ("5XXError", "4XXError", "Latency"):
        assert {"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}} in api[name]["Dimensions"]
    assert merge["Resources"]["RestAPI"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}
    assert api["BlockedRequests"]["Dimensions"][0]["Value"] == acl_of(merge, "ApiWebAcl")["Name"]


def test_dashboard_shows_the_alarmed_metrics_and_the_apps_own(merge):
    text, variables = merge["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    rendered = re.sub(r"\$\{[^}]+\}", "X", text)
    dashboard = json.loads(rendered.replace('"value": X', '"value": 1'))
    metrics = json.dumps(dashboard)
    for name in ("5XXError", "4XXError", "Latency", "CPUUtilization", "DatabaseConnections", "FreeStorageSpace",
                 "DatabaseConnectionsCurrentlySessionPinned", "BlockedRequests", "Throttles"):
        assert f'"{name}"' in metrics, name
    for name in ("Bookings", "Holds", "Expiries", "Unavailable", "LatencyMs"):
        assert re.search(r'\["Modex", "%s"|\["\.", "%s"\]' % (name, name), metrics), name
    assert 'MetricName=\\"Refusals\\"' in metrics and "{Modex,Code}" in metrics
    assert set(variables) == {"Database", "Proxy"}
