"""Fuzz target: damaged input straight into the feed parser, the HTML extractor, the text format and the CLI.

    python -m benchmarks.fuzz [--target feed|html|text|cli|all] [--minutes 10] [--seed N] [--json FILE]
                              [--crash-dir DIR]

Hypothesis draws real corpus files damaged the ways real input is damaged (``benchmarks.fuzz_inputs``:
truncated, garbled, null bytes, every kind of encoding lie, enormous attributes, deep nesting, invalid
dates, odd URL schemes, random bytes, and stacks of these) and hands them to the parsers directly,
not through the pipeline. Every input must end as parsed output or as one of our errors
(``ingest.errors.NewsdedupError``) whose message names the input; the CLI must exit 0, 1 or 2 with no
traceback. Anything else is a crash: hypothesis shrinks it, the run records it (``--crash-dir`` keeps
the bytes) and goes on with a new seed until the time is up. ``tests/test_bad_input.py`` runs the same
properties through the pipeline at suite size; ``tests/test_fuzz.py`` runs this for a few seconds per
target. Exits 1 if anything crashed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from benchmarks.fuzz_inputs import CORPUS, Case, cli_arguments, feed_cases, html_cases, text_cases
from ingest.errors import NewsdedupError
from ingest.extraction.decoding import decode_html
from ingest.formats import detect_format, parse_feed, parse_text
from ingest.formats.html import default_extractor
from ingest.formats.text import decode_text

TARGETS = ("feed", "html", "text", "cli")
SLOW_SECONDS = 10.0


class Crash(Exception):
    """An input that ended neither as output nor as a named error."""


@dataclass
class TargetStats:
    target: str
    inputs: int = 0
    seconds: float = 0.0
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    crashes: list[dict[str, Any]] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    errors_seen: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target, "inputs": self.inputs, "seconds": round(self.seconds, 1),
            "outcomes": {kind: dict(counts) for kind, counts in sorted(self.outcomes.items())},
            "crashes": self.crashes, "slowest": {"seconds": round(self.slowest[0], 2), "input": self.slowest[1]},
            "named_errors": dict(self.errors_seen.most_common(12)),
        }


def _named_error(exc: BaseException, case: Case) -> str:
    """The error's class if it is ours and names the input; raise Crash otherwise."""
    if isinstance(exc, NewsdedupError):
        if case.label not in str(exc):
            raise Crash(f"{type(exc).__name__} does not name the input: {str(exc)[:300]}") from exc
        return type(exc).__name__
    raise Crash(f"{type(exc).__name__}: {str(exc)[:300]}") from exc


# --- the targets: each returns "ok" or the name of the error it ended as -----------------------------


def check_feed(case: Case) -> str:
    detect_format(case.body, case.label, f"application/rss+xml; charset={case.charset}" if case.charset else None)
    headers = {"content-type": f"application/rss+xml; charset={case.charset}"} if case.charset is not None else {}
    try:
        feed = parse_feed(case.body, case.label, headers)
    except Exception as exc:
        return _named_error(exc, case)
    for document in feed.documents:
        if not isinstance(document.entry_key, str) or not document.entry_key:
            raise Crash(f"entry without a key: {document!r}"[:300])
    return "ok"


_EXTRACTOR: list[Any] = []


def check_html(case: Case) -> str:
    if not _EXTRACTOR:
        _EXTRACTOR.append(default_extractor())
    detect_format(case.body, case.label, f"text/html; charset={case.charset}" if case.charset else None)
    try:
        html = decode_html(case.body, case.label, case.charset)
        _EXTRACTOR[0].parse(html, f"fuzz:{case.label}", "https://example.org/story", case.label)
    except Exception as exc:
        return _named_error(exc, case)
    return "ok"


def check_text(case: Case) -> str:
    try:
        text = decode_text(case.body, case.label, case.charset)
    except Exception as exc:
        return _named_error(exc, case)
    document = parse_text(text, f"fuzz:{case.label}")
    if any(not block.text for block in document.blocks):
        raise Crash("an empty block")
    return "ok"


class CliTarget:
    """``ingest.cli.main`` in this process against one SQLite database, from a scratch directory (junk
    arguments may name relative paths)."""

    def __init__(self, scratch: Path) -> None:
        from ingest.cli import main

        self.main = main
        self.scratch = scratch
        self.database = f"sqlite:///{scratch / 'fuzz.sqlite3'}"
        self.files: list[str] = []
        for name, body in (("story.txt", b"One paragraph.\n\nAnother one."), ("feed.xml", b"<rss><channel>"),
                           ("bad.toml", b"[[feed]]\nname = 1\n"), ("empty.html", b""), ("nul.txt", b"\x00" * 64)):
            path = scratch / name
            path.write_bytes(body)
            self.files.append(str(path))
        self.run(["db", "upgrade"])
        # Something to show, explain and export.
        feed = CORPUS / "feeds" / "fastfeedparser__npr-world.xml"
        self.run(["ingest", str(feed), "--format", "feed", "--source", "npr"])
        self.run(["ingest", self.files[0], "--format", "text", "--source", "local"])
        self.files.append(str(feed))

    def run(self, args: list[str]) -> tuple[int, str]:
        errors, output = io.StringIO(), io.StringIO()
        previous = os.getcwd()
        os.chdir(self.scratch)
        try:
            with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(output):
                try:
                    code = self.main(["--database-url", self.database, *args])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
        finally:
            os.chdir(previous)
        return code, errors.getvalue()

    def check(self, args: list[str]) -> str:
        try:
            code, errors = self.run(args)
        except Exception as exc:
            raise Crash(f"{type(exc).__name__} escaped main(): {str(exc)[:300]}") from exc
        if code not in (0, 1, 2):
            raise Crash(f"exit code {code!r}")
        if "Traceback" in errors or "internal error" in errors:
            raise Crash(f"exit {code} with: {errors[-500:]}")
        return f"exit {code}"


# --- the loop ----------------------------------------------------------------------------------------


def _fuzz(
    stats: TargetStats, strategy: st.SearchStrategy[Any], check: Callable[[Any], str], kind_of: Callable[[Any], str],
    label_of: Callable[[Any], str], seconds: float, first_seed: int, crash_dir: Path | None, chunk: int,
    max_inputs: int | None,
) -> None:
    deadline = time.monotonic() + seconds
    round_number = 0
    failure: dict[str, Any] = {}  # the last crashing input of a round (after shrinking: the smallest)
    while time.monotonic() < deadline and (max_inputs is None or stats.inputs < max_inputs):
        round_number += 1
        failure.clear()

        @seed(first_seed * 1000 + round_number)
        @settings(max_examples=chunk, deadline=None, database=None, phases=[Phase.generate, Phase.shrink],
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(value=strategy)
        def once(value: Any) -> None:
            began = time.monotonic()
            try:
                outcome = check(value)
            except Crash as crash:
                failure.update(value=value, message=str(crash), trace=traceback.format_exc(limit=-6))
                raise
            took = time.monotonic() - began
            if not failure:  # inputs replayed while shrinking are not counted twice
                stats.inputs += 1
                stats.outcomes[kind_of(value)][outcome] += 1
                if outcome != "ok" and not outcome.startswith("exit"):
                    stats.errors_seen[outcome] += 1
                if took > stats.slowest[0]:
                    stats.slowest = (took, label_of(value))

        try:
            once()
        except Crash:
            value = failure["value"]
            record = {"input": label_of(value), "kind": kind_of(value), "error": failure["message"],
                      "trace": failure["trace"], "seed": first_seed * 1000 + round_number}
            if crash_dir is not None:
                crash_dir.mkdir(parents=True, exist_ok=True)
                name = f"{stats.target}-{len(stats.crashes):03d}"
                if isinstance(value, Case):
                    (crash_dir / f"{name}.bin").write_bytes(value.body)
                    record["charset"] = value.charset
                else:
                    (crash_dir / f"{name}.json").write_text(json.dumps(value), encoding="utf-8")
                record["saved"] = name
            stats.crashes.append(record)
            stats.outcomes[kind_of(value)]["CRASH"] += 1


def run_target(target: str, seconds: float, first_seed: int = 1, crash_dir: Path | None = None,
               chunk: int = 20, max_inputs: int | None = None) -> TargetStats:
    """Fuzz one target for ``seconds`` (or until ``max_inputs``): rounds of ``chunk`` inputs, each
    round with its own seed derived from ``first_seed``, so a run is repeatable input for input."""
    stats = TargetStats(target)
    began = time.monotonic()
    cases: dict[str, tuple[st.SearchStrategy[Case], Callable[[Case], str]]] = {
        "feed": (feed_cases(), check_feed), "html": (html_cases(), check_html), "text": (text_cases(), check_text),
    }
    if target in cases:
        strategy, check = cases[target]
        _fuzz(stats, strategy, check, lambda c: c.kind, lambda c: c.label + (" " + " ".join(c.notes) if c.notes
              else ""), seconds, first_seed, crash_dir, chunk, max_inputs)
    elif target == "cli":
        with tempfile.TemporaryDirectory(prefix="fuzz-cli-") as scratch:
            cli = CliTarget(Path(scratch))
            _fuzz(stats, cli_arguments(cli.files), cli.check, lambda args: "arguments", lambda args: repr(args)[:300],
                  seconds, first_seed, crash_dir, chunk, max_inputs)
    else:
        raise ValueError(f"unknown target {target!r}")
    stats.seconds = time.monotonic() - began
    return stats


def render(results: list[TargetStats]) -> str:
    lines = [f"{'target':<8}{'class':<22}{'inputs':>8}  outcomes"]
    for stats in results:
        for kind, counts in sorted(stats.outcomes.items()):
            total = sum(counts.values())
            shown = ", ".join(f"{name} {count}" for name, count in counts.most_common())
            lines.append(f"{stats.target:<8}{kind:<22}{total:>8}  {shown}")
        lines.append(f"{stats.target:<8}{'(all)':<22}{stats.inputs:>8}  {len(stats.crashes)} crash(es) in "
                     f"{stats.seconds:.0f}s; slowest input {stats.slowest[0]:.2f}s ({stats.slowest[1][:80]})")
        for crash in stats.crashes:
            lines.append(f"  CRASH {crash['input'][:100]}: {crash['error'][:200]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--minutes", type=float, default=10.0, help="in total; split evenly with --target all")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--crash-dir", type=Path, default=None, help="keep crashing inputs here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    targets = TARGETS if args.target == "all" else (args.target,)
    seconds = args.minutes * 60.0 / len(targets)
    cpu_before, load_before = time.process_time(), os.getloadavg()
    results = [run_target(target, seconds, args.seed, args.crash_dir) for target in targets]
    print(render(results))
    cpu = time.process_time() - cpu_before
    print(f"seed {args.seed}; CPU {cpu:.0f}s; load {[round(x, 2) for x in load_before]} -> "
          f"{[round(x, 2) for x in os.getloadavg()]}")
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "minutes": args.minutes, "cpu_seconds": round(cpu, 1),
                                         "targets": [r.as_json() for r in results]}, indent=2), encoding="utf-8")
    return 1 if any(r.crashes for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
