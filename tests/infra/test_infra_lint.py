"""The CloudFormation templates under infra/: cfn-lint clean, and the properties that the
deployment's security and the contract depend on (TLS, private networking, error shapes)."""
import fnmatch
import json
import re

import pytest

from tests.support.cfn import INFRA, ROOT, cfn_lint, load_template

STANDALONE = ["network-database.yaml", "frontend.yaml", "edge-waf.yaml"]  # chalice-merge.yaml: see test_package.py


@pytest.mark.parametrize("name", STANDALONE)
def test_template_passes_cfn_lint(name):
    result = cfn_lint(INFRA / name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_template_under_infra_is_checked():
    templates = {path.name for path in INFRA.glob("*.yaml")}
    assert templates == set(STANDALONE) | {"chalice-merge.yaml"}


# ---------------------------------------------------------------- network-database


@pytest.fixture(scope="module")
def network():
    return load_template(INFRA / "network-database.yaml")


def resources_of(template, kind):
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == kind}


def test_no_internet_path(network):
    kinds = {r["Type"] for r in network["Resources"].values()}
    assert not kinds & {"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"}
    for subnet in resources_of(network, "AWS::EC2::Subnet").values():
        assert subnet["MapPublicIpOnLaunch"] is False


def test_subnets_in_two_availability_zones(network):
    zones = [s["AvailabilityZone"] for s in resources_of(network, "AWS::EC2::Subnet").values()]
    assert sorted(z["Fn::Select"][0] for z in zones) == [0, 1]


def _rules(network):
    groups = resources_of(network, "AWS::EC2::SecurityGroup")
    for name, group in groups.items():
        for rule in group.get("SecurityGroupEgress", []):
            yield "egress", name, rule
    for ingress in resources_of(network, "AWS::EC2::SecurityGroupIngress").values():
        yield "ingress", ingress["GroupId"]["Ref"], ingress


def test_security_groups_are_chained_lambda_proxy_database(network):
    assert not any(g.get("SecurityGroupIngress") for g in resources_of(network, "AWS::EC2::SecurityGroup").values())
    edges = set()
    for direction, group, rule in _rules(network):
        if rule.get("CidrIp") == "127.0.0.1/32":
            continue  # the placeholder that removes the default allow-all egress
        assert "CidrIp" not in rule and "CidrIpv6" not in rule, (group, rule)
        assert rule["IpProtocol"] == "tcp" and rule["FromPort"] == rule["ToPort"], (group, rule)
        peer = (rule.get("SourceSecurityGroupId") or rule.get("DestinationSecurityGroupId"))["Ref"]
        edges.add((direction, group, peer, rule["FromPort"]))
    assert edges == {
        ("egress", "LambdaSecurityGroup", "ProxySecurityGroup", 5432),
        ("egress", "LambdaSecurityGroup", "EndpointSecurityGroup", 443),
        ("egress", "ProxySecurityGroup", "DatabaseSecurityGroup", 5432),
        ("egress", "ProxySecurityGroup", "EndpointSecurityGroup", 443),
        ("ingress", "ProxySecurityGroup", "LambdaSecurityGroup", 5432),
        ("ingress", "DatabaseSecurityGroup", "ProxySecurityGroup", 5432),
        ("ingress", "EndpointSecurityGroup", "LambdaSecurityGroup", 443),
        ("ingress", "EndpointSecurityGroup", "ProxySecurityGroup", 443),
        # the app secret's rotation function logs in to the database itself
        ("egress", "RotationSecurityGroup", "DatabaseSecurityGroup", 5432),
        ("egress", "RotationSecurityGroup", "EndpointSecurityGroup", 443),
        ("ingress", "DatabaseSecurityGroup", "RotationSecurityGroup", 5432),
        ("ingress", "EndpointSecurityGroup", "RotationSecurityGroup", 443),
    }
    # Groups with no egress need the placeholder, or AWS adds allow-all.
    for group in ("DatabaseSecurityGroup", "EndpointSecurityGroup"):
        assert resources_of(network, "AWS::EC2::SecurityGroup")[group]["SecurityGroupEgress"]


def test_secrets_manager_endpoint_with_private_dns(network):
    (endpoint,) = resources_of(network, "AWS::EC2::VPCEndpoint").values()
    assert endpoint["VpcEndpointType"] == "Interface"
    assert endpoint["PrivateDnsEnabled"] is True
    assert endpoint["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.secretsmanager"}
    vpc = resources_of(network, "AWS::EC2::VPC")["Vpc"]
    assert vpc["EnableDnsSupport"] is True and vpc["EnableDnsHostnames"] is True


def test_database_is_private_encrypted_and_backed_up(network):
    database = network["Resources"]["Database"]
    assert database["DeletionPolicy"] == "Snapshot"
    props = database["Properties"]
    assert props["Engine"] == "postgres"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["MultiAZ"] == {"Ref": "MultiAZ"}
    assert props["DeletionProtection"] == {"Ref": "DeletionProtection"}
    assert props["BackupRetentionPeriod"] == {"Ref": "BackupRetentionDays"}
    assert "resolve:secretsmanager" in props["MasterUserPassword"]["Fn::Sub"]
    versions = network["Parameters"]["PostgresMajorVersion"]["AllowedValues"]
    assert all(int(v) >= 15 for v in versions)
    parameters = resources_of(network, "AWS::RDS::DBParameterGroup")["DatabaseParameterGroup"]["Parameters"]
    assert parameters["rds.force_ssl"] == "1"


def test_secret_is_generated_in_rds_json_format(network):
    secret = network["Resources"]["DatabaseSecret"]["Properties"]
    generated = secret["GenerateSecretString"]
    template = json.loads(generated["SecretStringTemplate"]["Fn::Sub"].replace("${DatabaseUsername}", "u")
                          .replace("${DatabaseName}", "d"))
    assert {"username", "dbname", "port", "engine"} <= set(template)
    assert generated["GenerateStringKey"] == "password"
    assert secret["Name"] == {"Fn::Sub": "modex/${Stage}/database"}
    assert resources_of(network, "AWS::SecretsManager::SecretTargetAttachment")


def test_proxy_requires_tls_and_uses_the_secret(network):
    proxy = network["Resources"]["Proxy"]["Properties"]
    assert proxy["RequireTLS"] is True
    assert proxy["EngineFamily"] == "POSTGRESQL"
    # The master (migrate) and the application's login, each from its secret.
    assert [auth["SecretArn"] for auth in proxy["Auth"]] == [{"Ref": "DatabaseSecret"}, {"Ref": "AppDatabaseSecret"}]
    assert all(auth["AuthScheme"] == "SECRETS" for auth in proxy["Auth"])
    role = network["Resources"]["ProxyRole"]["Properties"]
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"] == [{"Ref": "DatabaseSecret"}, {"Ref": "AppDatabaseSecret"}]


def test_network_exports_what_the_app_imports(network):
    exported = {key for key, output in network["Outputs"].items() if "Export" in output}
    merge_text = (INFRA / "chalice-merge.yaml").read_text()
    imported = set(re.findall(r"\$\{NetworkStackName\}-(\w+)", merge_text))
    assert imported and imported <= exported
    for key in imported:
        assert network["Outputs"][key]["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-" + key}


# ------------------------------------------------------------------------ frontend


@pytest.fixture(scope="module")
def frontend():
    return load_template(INFRA / "frontend.yaml")


def test_site_bucket_is_private_and_read_through_oac(frontend):
    bucket = frontend["Resources"]["SiteBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statement = frontend["Resources"]["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]
    origins = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    site = next(o for o in origins if o["Id"] == "site")
    assert site["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}


def test_api_is_routed_uncached_with_its_headers(frontend):
    config = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    assert api["TargetOriginId"] == "api"
    assert {"POST", "DELETE", "GET"} <= set(api["AllowedMethods"])
    cache = frontend["Resources"]["ApiCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert cache["DefaultTTL"] == 0 and cache["MinTTL"] == 0 and cache["MaxTTL"] <= 2
    keyed = cache["ParametersInCacheKeyAndForwardedToOrigin"]
    assert set(keyed["HeadersConfig"]["Headers"]) == {"Authorization", "If-None-Match"}
    assert keyed["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    forwarded = frontend["Resources"]["ApiOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    headers = {h.lower() for h in forwarded["HeadersConfig"]["Headers"]}
    assert "idempotency-key" in headers and "host" not in headers and "authorization" not in headers
    api_origin = next(o for o in config["Origins"] if o["Id"] == "api")
    assert "OriginPath" not in api_origin  # /api/... maps onto the stage named "api"
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def behaviour_for(config: dict, path: str) -> dict:
    """The cache behaviour CloudFront picks for `path`: the first whose pattern matches
    (`*` any characters, `?` one, case-sensitive), else the default."""
    for behaviour in config["CacheBehaviors"]:
        if fnmatch.fnmatchcase(path, behaviour["PathPattern"]):
            return behaviour
    return config["DefaultCacheBehavior"]


def cached_seconds(policy: dict, max_age: int) -> int:
    """How long CloudFront keeps an answer whose Cache-Control says max-age=`max_age`."""
    return min(max(max_age, policy["MinTTL"]), policy["MaxTTL"])


def policy_of(template: dict, behaviour: dict) -> dict:
    return template["Resources"][behaviour["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]


SHOW = "/api/shows/0b0e6d0c-3d0a-4d4e-9a4b-2f1e6c7d8e9f"


@pytest.mark.parametrize("path, max_age, seconds", [
    (f"{SHOW}/availability", 1, 1),          # Cache-Control: public, max-age=1
    (f"{SHOW}/availability", 3600, 1),       # an origin asking for more still gets 1 s
    (f"{SHOW}/layout", 31536000, 31536000),  # public, max-age=31536000, immutable
])
def test_seat_map_reads_are_cached_as_the_origin_says(frontend, path, max_age, seconds):
    config = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    behaviour = behaviour_for(config, path)
    assert behaviour["PathPattern"] != "/api/*", f"{path} falls through to the uncached /api/*"
    assert behaviour["TargetOriginId"] == "api" and behaviour["Compress"] is True
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert set(behaviour["CachedMethods"]) == {"GET", "HEAD"}
    # Every method /api/* allows, so the app (not CloudFront's 403) answers a POST with 405.
    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    assert set(behaviour["AllowedMethods"]) == set(api["AllowedMethods"])
    assert behaviour["OriginRequestPolicyId"] == api["OriginRequestPolicyId"]
    policy = policy_of(frontend, behaviour)
    assert cached_seconds(policy, max_age) == seconds
    assert policy["MinTTL"] == 0, "a MinTTL would cache answers that say no-store (errors)"
    keyed = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    # One key per show: not per user (Authorization), not per viewer's ETag (CloudFront
    # answers If-None-Match from its own copy), not per cache-busting query string.
    assert keyed["HeadersConfig"]["HeaderBehavior"] == "none" and "Headers" not in keyed["HeadersConfig"]
    assert keyed["CookiesConfig"]["CookieBehavior"] == "none"
    assert keyed["QueryStringsConfig"]["QueryStringBehavior"] == "none"
    assert keyed["EnableAcceptEncodingGzip"] is True and keyed["EnableAcceptEncodingBrotli"] is True


def test_availability_cache_keeps_answers_no_longer_than_a_second(frontend):
    config = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    policy = policy_of(frontend, behaviour_for(config, f"{SHOW}/availability"))
    assert policy["DefaultTTL"] == 0 and policy["MaxTTL"] == 1


@pytest.mark.parametrize("path", [f"{SHOW}/seats", f"{SHOW}/bookings", "/api/shows", f"{SHOW}",
                                  "/api/bookings/0b0e6d0c-3d0a-4d4e-9a4b-2f1e6c7d8e9f"])
def test_everything_else_under_api_stays_on_the_uncached_behaviour(frontend, path):
    config = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert behaviour_for(config, path)["PathPattern"] == "/api/*"


def test_frontend_behaviours_compress(frontend):
    config = frontend["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["Compress"] is True
    assert all(behaviour["Compress"] is True for behaviour in config["CacheBehaviors"])


# ---------------------------------------------------------- chalice merge + config


@pytest.fixture(scope="module")
def merge():
    return load_template(INFRA / "chalice-merge.yaml")


def rendered(template: str) -> dict:
    """A gateway response body as API Gateway would render it."""
    return json.loads(template.replace("$context.error.messageString", json.dumps("Some message")))


def test_gateway_responses_have_the_contract_shape(merge):
    responses = merge["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    expected = {
        "DEFAULT_4XX": (None, None),
        "DEFAULT_5XX": (None, "INTERNAL_ERROR"),
        "MISSING_AUTHENTICATION_TOKEN": (404, "NOT_FOUND"),
        "RESOURCE_NOT_FOUND": (404, "NOT_FOUND"),
        "THROTTLED": (429, "THROTTLED"),
        "REQUEST_TOO_LARGE": (413, "PAYLOAD_TOO_LARGE"),
        "UNSUPPORTED_MEDIA_TYPE": (415, "UNSUPPORTED_MEDIA_TYPE"),
        "INTEGRATION_TIMEOUT": (503, "UNAVAILABLE"),
    }
    for kind, (status, code) in expected.items():
        response = responses[kind]
        body = rendered(response["ResponseTemplates"]["application/json"])
        assert set(body) == {"error", "message"}, kind
        assert re.fullmatch(r"[A-Z_]+", body["error"]) and body["message"], kind
        if code:
            assert body["error"] == code, kind
        if status:
            assert response["StatusCode"] == status, kind
    for kind, response in responses.items():
        rendered(response["ResponseTemplates"]["application/json"])  # all valid JSON
        assert response["ResponseParameters"]["Headers"]["Cache-Control"] == "'no-store'", kind
    assert responses["THROTTLED"]["ResponseParameters"]["Headers"]["Retry-After"] == "'1'"


def test_stage_throttling_and_outputs(merge):
    settings = merge["Resources"]["RestAPI"]["Properties"]["MethodSettings"][0]
    assert settings["ResourcePath"] == "/*" and settings["HttpMethod"] == "*"
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    outputs = merge["Outputs"]
    assert outputs["CreateShowFunctionName"]["Value"] == {"Ref": "CreateShow"}
    assert outputs["MigrateFunctionName"]["Value"] == {"Ref": "Migrate"}
    assert outputs["APIHandlerFunctionName"]["Value"] == {"Ref": "APIHandler"}
    assert {"ApiUrl", "ApiDomainName"} <= set(outputs)


# Names that chalicelib/config.py reads.
RUNTIME_SETTINGS = {
    "DATABASE_SECRET_ARN", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_SSLMODE",
    "DATABASE_SSLROOTCERT", "DB_CONNECT_TIMEOUT_S", "DB_STATEMENT_TIMEOUT_MS", "DB_LOCK_TIMEOUT_MS",
}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_chalice_stage_is_coherent_with_the_infrastructure(stage, merge):
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["app_name"] == "modex"
    settings = config["stages"][stage]
    assert settings["api_gateway_stage"] == "api"  # frontend.yaml routes /api/* without OriginPath
    assert settings["autogen_policy"] is False
    # API Gateway compresses answers at least this large for clients that accept gzip (a big
    # room's layout); CloudFront compresses from 1,000 bytes, so no smaller threshold helps.
    assert 0 < settings.get("minimum_compression_size", config.get("minimum_compression_size", 0)) <= 1024
    env = dict(settings["environment_variables"])
    env.update(merge["Globals"]["Function"]["Environment"]["Variables"])
    assert set(env) <= RUNTIME_SETTINGS
    assert {"DATABASE_SECRET_ARN", "DATABASE_HOST"} <= set(env)
    assert env["DATABASE_SSLMODE"] == "verify-full"

    policy = json.loads((ROOT / ".chalice" / settings["iam_policy_file"]).read_text())
    statements = {s["Sid"]: s for s in policy["Statement"]}
    # Every function but migrate: the application's secret only (DML), never the master's.
    assert "DatabaseSecret" not in statements and "MasterDatabaseSecret" not in statements
    secret = statements["AppDatabaseSecret"]
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    # Secrets Manager appends "-" and six random characters to the name the network stack sets.
    assert secret["Resource"].endswith(f":secret:modex/{stage}/app-database-??????")
    assert "*" not in secret["Resource"].split(":secret:")[1]
    assert "ec2:CreateNetworkInterface" in statements["VpcNetworkInterfaces"]["Action"]
    assert all(":log-group:/aws/lambda/modex-" in r for r in statements["Logs"]["Resource"])

    params = json.loads((INFRA / "params" / f"{stage}.json").read_text())
    reserved = settings["lambda_functions"]["api_handler"]["reserved_concurrency"]
    burst = int(params["app"]["ThrottlingBurstLimit"])
    # Overload must meet the gateway's 429 before Lambda's own throttle (a 5xx).
    assert 50 <= burst <= reserved, "a 50-request race must fit the burst, and the burst the reservation"
