"""The banner stays small: its script and CSS, gzipped (-9), within 10 KB. Measured on the
source as served, comments and all; minifying (bench/banner.py) only makes it smaller."""

import gzip
from pathlib import Path

import gallra

BUDGET = 10_000  # bytes
STATIC = Path(gallra.__file__).parent / "consent" / "static" / "gallra"


def test_the_banner_fits_its_budget():
    source = (STATIC / "banner.js").read_bytes() + (STATIC / "banner.css").read_bytes()
    size = len(gzip.compress(source, compresslevel=9))
    assert size <= BUDGET, f"banner.js + banner.css gzipped: {size} bytes, over {BUDGET}"
