"""Publishing the frontend: content types, cache headers, config.js, upload, emptying, invalidation."""
import json
import mimetypes
import re
import time
from pathlib import Path

from .settings import ROOT, DeployError

FRONTEND = ROOT / "frontend"

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
