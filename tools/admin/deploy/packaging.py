"""The Lambda package: wheelhouse, `chalice package`, CodeUri on S3, the artifacts bucket and upload."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .settings import BUILD, INFRA, ROOT, DeployError

WHEELHOUSE = BUILD / "wheelhouse"
# The Lambda runtime's platform; chalice picks the runtime from the local Python version.
WHEEL_PLATFORM = "manylinux2014_x86_64"


def wheelhouse_env(wheelhouse: Path = WHEELHOUSE) -> dict:
    """Environment for an offline `chalice package`: no AWS calls, no metadata probe, and pip
    limited to the wheelhouse when there is one (docs/design-notes.md)."""
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(name, None)
    env.update(
        AWS_DEFAULT_REGION=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
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
