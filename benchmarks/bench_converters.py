"""Converter throughput and memory: a synthetic EmoRecCom-format release of 100,000 panels (20,000 quick).

Goals (issue 6): at least 5,000 rows/s without images, peak RSS under 1 GB. The conversion runs in
a fresh subprocess, so its peak RSS (``ru_maxrss``) is the converter's own; the release is written
beforehand by the test fixture builder. A third row compares the converters' record check (schema
compiled by fastjsonschema + semantic rules) with ``schema.validate_sample`` (jsonschema) on the
same records, side by side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json, resource, sys, time
from comic_emotion.converters import get_converter
from comic_emotion.converters.base import prepare
start = time.perf_counter()
manifest = prepare(get_converter("emorecom"), sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rows": manifest["splits"]["train"]["rows"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _validation_rates(split: Path, n: int) -> tuple[float, float]:
    """Records/s of validate_sample (compiled fast path) and of the plain jsonschema validator."""
    from itertools import islice

    from jsonschema import Draft202012Validator

    from comic_emotion.schema import SAMPLE_SCHEMA, validate_sample
    from comic_emotion.storage import read_records

    records = list(islice(read_records(split), n))
    reference = Draft202012Validator(SAMPLE_SCHEMA)
    validate_sample(records[0])
    start = time.perf_counter()
    for record in records:
        validate_sample(record)
    ours = len(records) / (time.perf_counter() - start)
    start = time.perf_counter()
    for record in records:
        reference.validate(record)
    return ours, len(records) / (time.perf_counter() - start)


def run(quick: bool) -> list[dict]:
    sys.path.insert(0, str(ROOT / "tests"))
    from converter_fixtures import write_emorecom_release

    n = 20_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="bench-converters-") as tmp:
        release, data = Path(tmp) / "release", Path(tmp) / "data"
        write_emorecom_release(release, n_train=n, n_test=0, images=False, test_labels=False)
        done = subprocess.run([sys.executable, "-c", _CHILD, str(release), str(data)], capture_output=True,
                              text=True, check=True, cwd=ROOT)
        child = json.loads(done.stdout.strip().splitlines()[-1])
        ours_rate, reference_rate = _validation_rates(data / "emorecom" / "train.parquet", 3_000 if quick else 10_000)
    rate = child["rows"] / child["seconds"]
    return [
        {"what": f"emorecom prepare, {n} rows, no images", "ours": rate, "reference": 5000.0, "unit": "rows/s",
         "ratio": rate / 5000.0, "goal": ">= 5000 rows/s (ratio = ours / goal)", "passed": rate >= 5000},
        {"what": f"emorecom prepare peak RSS, {n} rows", "ours": child["peak_rss_mb"], "reference": 1024.0,
         "unit": "MB", "ratio": 1024.0 / child["peak_rss_mb"], "goal": "< 1024 MB (ratio = goal / ours)",
         "passed": child["peak_rss_mb"] < 1024},
        {"what": "record check: compiled schema vs jsonschema validate_sample", "ours": ours_rate,
         "reference": reference_rate, "unit": "records/s", "ratio": ours_rate / reference_rate,
         "goal": "faster than jsonschema (ratio = ours / reference)", "passed": ours_rate > reference_rate},
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
