"""The fuzz target at suite size (a few seconds per target), and the crashes it found, kept as cases.

``python -m benchmarks.fuzz --minutes 10`` runs the same targets for longer (docs/reliability.md).
"""

from __future__ import annotations

import pytest

from benchmarks.fuzz import TARGETS, render, run_target
from ingest.errors import DecodeError
from ingest.formats.text import decode_text
from tests.conftest import CORPUS

SEED_TEXT = CORPUS.parent / "seed" / "voa-indonesia-korea-utara.txt"


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_finds_no_crash_in_a_few_seconds(target: str) -> None:
    stats = run_target(target, seconds=4.0, first_seed=11, chunk=5)
    assert stats.inputs > 0
    assert not stats.crashes, render([stats])


# --- crashes found by the fuzz target ------------------------------------------------------------


@pytest.mark.parametrize("declared", ["\x00", "utf-8\x00", "x" * 10_000, " ", "utf-8; q=0"])
def test_a_charset_label_python_refuses_falls_through_to_detection(declared: str) -> None:
    # A Content-Type charset with a NUL made bytes.decode raise ValueError ("embedded null character").
    body = SEED_TEXT.read_bytes()
    assert decode_text(body, "story.txt", declared) == body.decode("utf-8")


def test_binary_with_a_refused_charset_label_is_a_named_decode_error() -> None:
    with pytest.raises(DecodeError, match=r"blob\.bin"):
        decode_text(bytes(range(256)) * 8, "blob.bin", "\x00")
