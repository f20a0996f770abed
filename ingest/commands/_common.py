"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ingest.cli_format import HelpFormatter

Subparsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(
    subparsers: Any, name: str, help_text: str, example: str, **kwargs: Any
) -> argparse.ArgumentParser:
    return subparsers.add_parser(  # type: ignore[no-any-return]
        name,
        help=help_text,
        description=help_text,
        epilog=f"example:\n  {example}",
        formatter_class=HelpFormatter,
        **kwargs,
    )


# Ids, sequence numbers and counts are signed 64-bit in both databases: a larger number would reach
# the driver and fail there (SQLite raises OverflowError), so the argument parser refuses it.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def int64(text: str) -> int:
    """An ``argparse`` type: an integer that fits a 64-bit database column."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from exc
    if not INT64_MIN <= value <= INT64_MAX:
        raise argparse.ArgumentTypeError(f"{text} does not fit a 64-bit integer")
    return value


MAX_PROCESSES = 64


def process_count(text: str) -> int:
    """An ``argparse`` type: a number of worker processes, 1 to ``MAX_PROCESSES``."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from exc
    if not 1 <= value <= MAX_PROCESSES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_PROCESSES}, got {value}")
    return value


def add_prepare_processes_option(parser: argparse.ArgumentParser) -> None:
    """``--prepare-processes N`` of the commands that fetch and write (``fetch``, ``run``)."""
    parser.add_argument(
        "--prepare-processes",
        type=process_count,
        default=1,
        metavar="N",
        help="processes that parse, clean and prepare what is fetched while polls write (default: 1, none extra)",
    )


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def print_json_line(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
