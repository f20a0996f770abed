"""Helpers for tests that drive the ``newsdedup`` command line, in process or as a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ingest.cli import main

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "config" / "rules"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ingest_copies(
    capsys: pytest.CaptureFixture[str], url: str, seed_file: Path, tmp_path: Path, sources: Sequence[str]
) -> None:
    """The seed text as the first source's article, then byte-identical copies from each further source."""
    for index, source in enumerate(sources):
        path = seed_file if index == 0 else tmp_path / f"copy-{index}.txt"
        if index:
            path.write_bytes(seed_file.read_bytes())
        code, _, err = run_cli(
            capsys, "--database-url", url, "ingest", str(path), "--format", "text", "--source", source
        )
        assert code == 0, err


def cli_json(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> Any:
    code, out, err = run_cli(capsys, "--database-url", url, *args)
    assert code == 0, err
    return json.loads(out)


def export_lines(capsys: pytest.CaptureFixture[str], url: str, since: int = 0) -> list[dict[str, Any]]:
    code, out, err = run_cli(capsys, "--database-url", url, "export", "--since-seq", str(since))
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def cli_command(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "ingest", "--database-url", url, *args]


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEDUP_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_process(url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(url, *args), capture_output=True, text=True, timeout=timeout, env=cli_env(), cwd=REPO
    )


def rules_without_chrome_line(tmp_path: Path, line: str = "breaking news") -> Path:
    """A settings file whose rules no longer know ``line`` as site chrome: the "before" of a rules
    change. Returns the settings file to pass with ``--config``."""
    rules = tmp_path / "old-rules"
    shutil.copytree(RULES, rules)
    for path in rules.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(f'"{line}", ', "").replace(f', "{line}"', ""), encoding="utf-8")
    assert line not in "".join(p.read_text(encoding="utf-8") for p in rules.glob("*.toml"))
    config = tmp_path / "old-rules.toml"
    config.write_text(f"rules_dir = {json.dumps(str(rules))}\n", encoding="utf-8")
    return config
