"""Shared test constants.

NOTE (aligner helper): this file may have replaced an earlier conftest.py by accident; REPO and SAMPLE
are what tests/test_cli.py imports from it — the lead should check it against the original.
"""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "sputnik-2023-12-06"
