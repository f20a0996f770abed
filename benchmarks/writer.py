"""The writing side of ingest alone: link and store, for full-content feed entries.

With ``--workers N`` the pipeline splits in two (``ingest.parallel``): workers parse, clean and
prepare, one process links and stores in input order. That process's cost per entry bounds the
rate whatever the workers do, and it is the one that can grow with the store. Here every input of
the benchmark workload is prepared first, untimed, in this process; then ``Pipeline.save`` (what
the writing process runs) is timed alone, slice by slice, with nothing else competing for the CPU,
which makes its figure far steadier than the parallel run's.

    python -m benchmarks.writer [--feed 4000] [--slices 4] [--backend sqlite] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.pipeline import DEFAULT_CORPUS, DEFAULT_PG, database, load_average, open_app, work_input
from benchmarks.workload import Workload


def measure(
    corpus: Path, entries: int, slices: int, backend: str = "sqlite", pg_url: str = DEFAULT_PG
) -> dict[str, Any]:
    items = list(Workload(corpus).feed_items(entries))
    with database(backend, pg_url) as url:
        app, pipeline = open_app(url)
        try:
            inputs = [work_input(item) for item in items]
            prepared = [pipeline.prepare(item) for item in inputs]
            gc.collect()
            gc.freeze()  # what was prepared stays out of the collector's walks, as in the writer
            load_before = load_average()
            per_slice: list[dict[str, float | int]] = []
            stored = errors = 0
            step = max(1, len(inputs) // slices)
            slice_stored, started_cpu, started_wall = 0, time.process_time(), time.perf_counter()
            total_cpu, total_wall = started_cpu, started_wall
            for number, (item, ready) in enumerate(zip(inputs, prepared, strict=True), start=1):
                result = pipeline.save(item, ready)
                slice_stored += result.created
                errors += sum(1 for a in result.articles if a.status == "error")
                if number % step == 0 or number == len(inputs):
                    cpu, wall = time.process_time(), time.perf_counter()
                    stored += slice_stored
                    per_slice.append(
                        {
                            "stored": stored,
                            "ms_per_entry_cpu": round(1000 * (cpu - started_cpu) / max(1, slice_stored), 3),
                            "ms_per_entry_wall": round(1000 * (wall - started_wall) / max(1, slice_stored), 3),
                        }
                    )
                    slice_stored, started_cpu, started_wall = 0, cpu, wall
            cpu_s, wall_s = time.process_time() - total_cpu, time.perf_counter() - total_wall
        finally:
            gc.unfreeze()
            app.close()
    return {
        "backend": backend,
        "entries": entries,
        "stored": stored,
        "errors": errors,
        "ms_per_entry_cpu": round(1000 * cpu_s / max(1, stored), 3),
        "ms_per_entry_wall": round(1000 * wall_s / max(1, stored), 3),
        "entries_per_s_cpu": round(stored / cpu_s, 1) if cpu_s else None,
        "slices": per_slice,
        "load_average": [load_before, load_average()],
    }


def print_report(report: dict[str, Any]) -> None:
    print(
        f"{report['backend']}, writer alone: {report['stored']:,} of {report['entries']:,} entries stored "
        f"({report['errors']} errors), {report['ms_per_entry_cpu']:.3f} ms CPU an entry "
        f"({report['entries_per_s_cpu']} a CPU-second); load average {report['load_average']}"
    )
    print(f"  {'stored':>8} {'ms/entry CPU':>13} {'ms/entry wall':>14}")
    for s in report["slices"]:
        print(f"  {s['stored']:>8,} {s['ms_per_entry_cpu']:>13.3f} {s['ms_per_entry_wall']:>14.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.writer", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL admin URL; a database is created per run")
    parser.add_argument("--feed", type=int, default=4000, help="full-content feed entries")
    parser.add_argument("--slices", type=int, default=4)
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report = measure(args.corpus, args.feed, args.slices, args.backend, args.pg)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
