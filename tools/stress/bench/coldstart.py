"""Cold-start figures for the bench: how long a fresh interpreter takes to import the app
(what a new Lambda container pays before its first request), which imports cost the most,
and how big the Lambda package is."""
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parents[3]


def _env() -> dict:
    # The app must import without a database or AWS settings: nothing connects at import time.
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "PYTHONPATH")}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", PYTHONDONTWRITEBYTECODE="")
    return env


def _run_python(code: str, extra_args: Tuple[str, ...] = ()) -> Tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, *extra_args, "-c", code], cwd=ROOT, env=_env(),
                            capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"python -c {code!r} failed: {result.stderr.strip()[-500:]}")
    return elapsed, result.stderr


def import_times(repeats: int = 10) -> dict:
    """Median wall time of `python -c "import app"` and of a bare `python -c pass`, in ms."""
    _run_python("import app")  # the first run writes .pyc files; Lambda ships them compiled or not
    bare = [_run_python("pass")[0] for _ in range(repeats)]
    with_app = [_run_python("import app")[0] for _ in range(repeats)]
    return {
        "repeats": repeats,
        "python_ms": statistics.median(bare) * 1000,
        "import_app_ms": statistics.median(with_app) * 1000,
        "app_only_ms": (statistics.median(with_app) - statistics.median(bare)) * 1000,
    }


def import_offenders(top: int = 8, repeats: int = 3) -> List[Tuple[str, float]]:
    """Where `import app` spends its time, from `-X importtime`: each module's own (self) time
    summed per top-level package (pg8000's includes pg8000.core but not scramp), median of
    `repeats` runs."""
    runs = []
    for _ in range(repeats):
        _, log = _run_python("import app", ("-X", "importtime"))
        totals = {}
        for line in log.splitlines():
            if not line.startswith("import time:") or line.count("|") != 2:
                continue
            own, _, name = line[len("import time:"):].split("|")
            if not own.strip().isdigit():
                continue  # the header line
            package = name.strip().split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(own) / 1000
        runs.append(totals)
    medians = {package: statistics.median(run.get(package, 0.0) for run in runs) for package in runs[0]}
    return sorted(medians.items(), key=lambda item: item[1], reverse=True)[:top]


def package_size() -> dict:
    """Size of the `chalice package` zip, built offline from the wheelhouse; or why not."""
    try:
        from tools.admin.deploy import packaging
    except Exception as error:  # the infra helper's module is not there or broken
        return {"zip_bytes": None, "reason": f"tools.admin.deploy unavailable: {error}"}
    try:
        wheelhouse = packaging.build_wheelhouse()
    except Exception as error:
        return {"zip_bytes": None, "reason": f"no wheelhouse (pip download failed: {error})"}
    with tempfile.TemporaryDirectory(prefix="modex-bench-package-") as out:
        try:
            packaging.package("dev", out_dir=Path(out) / "dev", wheelhouse=wheelhouse)
        except Exception as error:
            return {"zip_bytes": None, "reason": f"chalice package failed: {str(error).strip()[:300]}"}
        zip_path = Path(out) / "dev" / "deployment.zip"
        if not zip_path.exists():
            return {"zip_bytes": None, "reason": "chalice package wrote no deployment.zip"}
        with zipfile.ZipFile(zip_path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            largest = _largest_top_level(archive)
        return {"zip_bytes": zip_path.stat().st_size, "unpacked_bytes": unpacked, "largest": largest}


def _largest_top_level(archive: zipfile.ZipFile, top: int = 5) -> List[Tuple[str, int]]:
    sizes = {}
    for info in archive.infolist():
        head = info.filename.split("/", 1)[0]
        sizes[head] = sizes.get(head, 0) + info.compress_size
    return sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:top]
