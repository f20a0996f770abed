"""The end-to-end benchmark at a tiny size: its JSON holds every figure and the counts add up."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from benchmarks import growth_steps
from benchmarks import pipeline as bench
from benchmarks import writer as writer_bench
from benchmarks.workload import WorkItem, Workload
from ingest.corpus_dedupe import CorpusDeduper

STAGE_FIELDS = {"wall", "cpu", "calls", "articles", "paragraphs", "articles_per_s_wall", "articles_per_s_cpu"}


def _check_phase(phase: dict[str, object], expected_articles: int, items: int) -> None:
    assert phase["items"] == items
    assert phase["articles_expected"] == expected_articles
    # Every article the workload promised is stored, once, with no error.
    assert phase["errors"] == 0
    assert phase["articles_created"] == expected_articles
    assert phase["articles_stored"] == expected_articles
    assert isinstance(phase["paragraphs_stored"], int) and phase["paragraphs_stored"] > expected_articles
    assert isinstance(phase["db_bytes_per_article"], int) and phase["db_bytes_per_article"] > 0
    stages = phase["stages"]
    assert isinstance(stages, dict)
    assert set(stages) == {*bench.STAGES, "total"}
    for stage in stages.values():
        assert set(stage) >= STAGE_FIELDS
        assert stage["wall"] >= 0 and stage["cpu"] >= -0.05
    # Every article goes through clean, dedupe and store; the exclusive stage times add up to the total.
    assert stages["clean"]["articles"] == stages["dedupe"]["articles"] == expected_articles
    assert stages["store"]["articles"] == expected_articles
    assert stages["parse"]["articles"] == expected_articles
    assert stages["parse"]["calls"] == items
    parts = sum(stages[name]["wall"] for name in bench.STAGES)
    assert parts == pytest.approx(stages["total"]["wall"], rel=1e-6, abs=1e-6)


def test_run_on_sqlite_counts_add_up(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    assert bench.main(["--corpus", str(corpus), "run", "--pages", "4", "--feed", "60",
                       "--backends", "sqlite", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    result = report["backends"]["sqlite"]
    _check_phase(result["pages"], 4, 4)
    assert result["pages"]["stages"]["extract"]["articles"] == 4
    _check_phase(result["feed"], 60, 2)  # 50 entries per feed file
    assert result["feed"]["stages"]["extract"]["articles"] == 0
    assert report["trafilatura"]["pages"] == 4
    # The reference that the ratio uses was timed between our pages, on the same pages.
    reference = result["trafilatura"]
    assert reference["interleaved"] and reference["pages"] == 4 and reference["extracted"] >= 3
    assert reference["cpu_s"] > 0
    for clock in ("wall", "cpu"):
        assert result["vs_trafilatura"][clock]["ratio"] > 0
        assert result["vs_trafilatura"][clock]["trafilatura_ms"] == reference[f"ms_per_page_{clock}"]
    # ... and is not in the phase's own time: the stages account for it all.
    pages = result["pages"]
    assert pages["wall_s"] == pytest.approx(pages["stages"]["total"]["wall"], rel=0.05, abs=0.02)
    assert report["peak_rss_bytes"] > 0
    assert len(report["machine"]["load_average_start"]) == 3


def test_run_with_workers_counts_add_up_and_reports_the_workers_cpu(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    assert bench.main(["--corpus", str(corpus), "run", "--pages", "4", "--feed", "60",
                       "--backends", "sqlite", "--workers", "2", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    for phase, articles, items in (("pages", 4, 4), ("feed", 60, 2)):
        result = report["backends"]["sqlite"][phase]
        assert (result["items"], result["articles_expected"], result["articles_stored"]) == (items, articles, articles)
        assert result["errors"] == 0 and result["workers"] == 2
        # Parse, clean and prepare ran in the workers: their CPU is reported apart, not in the stages.
        assert result["workers_cpu_s"] > 0 and result["workers_ms_per_article_cpu"] > 0
        stages = result["stages"]
        assert stages["parse"]["calls"] == stages["clean"]["articles"] == stages["dedupe"]["articles"] == 0
        assert stages["store"]["articles"] == articles
        parts = sum(stages[name]["wall"] for name in bench.STAGES)
        assert parts == pytest.approx(stages["total"]["wall"], rel=1e-6, abs=1e-6)


def test_run_on_postgresql(corpus: Path, tmp_path: Path, pg_server: str) -> None:
    out = tmp_path / "run.json"
    assert bench.main(["--corpus", str(corpus), "--pg", pg_server, "run", "--pages", "2", "--feed", "20",
                       "--backends", "postgresql", "--json", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))["backends"]["postgresql"]
    _check_phase(result["pages"], 2, 2)
    _check_phase(result["feed"], 20, 1)


def test_growth_slices_cover_the_run(corpus: Path, tmp_path: Path) -> None:
    data, plot, log = tmp_path / "growth.json", tmp_path / "growth.png", tmp_path / "growth.jsonl"
    assert bench.main(["--corpus", str(corpus), "growth", "--size", "120", "--slices", "3",
                       "--baseline-every", "1", "--paired", "0",
                       "--json", str(data), "--plot", str(plot), "--log", str(log)]) == 0
    run = json.loads(data.read_text(encoding="utf-8"))["runs"]["sqlite-120"]
    assert run["vocabulary_period"] is None
    assert run["paired_end"] is None
    assert run["articles"] == 120
    articles = [s["articles"] for s in run["slices"]]
    assert articles == sorted(articles) and articles[-1] == 120
    paragraphs = [s["paragraphs"] for s in run["slices"]]
    assert paragraphs == sorted(paragraphs) and paragraphs[-1] == run["paragraphs"]
    assert all(s["ms_per_article_cpu"] > 0 and s["rss_bytes"] > 0 for s in run["slices"])
    assert plot.stat().st_size > 10_000
    # Baselines (40 articles like the late ones into an empty store) at the start, after each slice
    # (the feed files hold 50 entries, so slices end at 50, 100, 120) and at the end.
    assert [b["after_articles"] for b in run["baselines"]] == [0, 50, 100, 120] and run["baseline_articles"] == 40
    assert all(b["ms_per_article_cpu"] > 0 for b in run["baselines"])
    stretches = run["over_baseline"]
    assert [(s["from_articles"], s["to_articles"]) for s in stretches] == [(50, 50), (100, 100), (120, 120)]
    for stretch, slice_, (before, after) in zip(
        stretches, run["slices"], itertools.pairwise(run["baselines"]), strict=True
    ):
        reference = (before["ms_per_article_cpu"] + after["ms_per_article_cpu"]) / 2
        assert stretch["ms_per_article_cpu"] == slice_["ms_per_article_cpu"]
        assert stretch["ratio"] == pytest.approx(slice_["ms_per_article_cpu"] / reference, abs=1e-3)
    assert run["last_stretch_over_baseline_cpu"] == stretches[-1]["ratio"]
    # Every slice and baseline splits its time by stage, and the stages add up to it.
    for timed in [*run["slices"], *run["baselines"]]:
        assert set(timed["stages_ms_cpu"]) == set(bench.GROWTH_STAGES)
        assert sum(timed["stages_ms_cpu"].values()) == pytest.approx(timed["ms_per_article_cpu"], rel=0.1)
    assert all(set(s["stages"]) == set(bench.GROWTH_STAGES) for s in stretches)
    # The progress log has every slice and every baseline, in the order they were taken.
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [line["baseline"]["after_articles"] if "baseline" in line else line["articles"] for line in lines] == [
        0, 50, 50, 100, 100, 120, 120
    ]


def test_news_replayed_by_day_slides_the_window_over_the_run(corpus: Path, tmp_path: Path) -> None:
    data = tmp_path / "growth.json"
    common = ["--corpus", str(corpus), "growth", "--size", "400", "--slices", "8", "--baseline-every", "0",
              "--json", str(data), "--plot", str(tmp_path / "growth.png")]
    # 5 articles a day: the 30-day window holds the last 150 of them, and the paired end goes on.
    assert bench.main([*common, "--paired", "100", "--articles-per-day", "5"]) == 0
    assert bench.main([*common, "--paired", "0"]) == 0
    runs = json.loads(data.read_text(encoding="utf-8"))["runs"]
    replayed, same_day = runs["sqlite-400-5-a-day"], runs["sqlite-400"]
    assert (replayed["articles_per_day"], replayed["window_days"]) == (5, 30)
    assert same_day["articles_per_day"] is None
    # Both runs store the same articles; the index of the replayed one holds only the window's.
    assert [s["paragraphs"] for s in replayed["slices"]] == [s["paragraphs"] for s in same_day["slices"]]
    held = [s["indexed_blocks"] for s in replayed["slices"]]
    every = [s["indexed_blocks"] for s in same_day["slices"]]
    assert every == sorted(every) and every[-1] > 2 * held[-1]
    assert held[:2] == every[:2]  # 50 and 100 articles: 10 and 20 days, all inside the window
    assert max(held[3:]) < 1.5 * min(held[3:])  # from 200 articles on, a window's worth
    assert replayed["paired_end"]["large"]["articles"] == 100
    with pytest.raises(SystemExit):
        bench.main([*common, "--articles-per-day", "-5"])


def test_paired_end_continues_the_run_beside_an_empty_store(corpus: Path, tmp_path: Path) -> None:
    data = tmp_path / "growth.json"
    assert bench.main(["--corpus", str(corpus), "growth", "--size", "100", "--slices", "2", "--baseline-every", "0",
                       "--paired", "100", "--json", str(data), "--plot", str(tmp_path / "growth.png")]) == 0
    run = json.loads(data.read_text(encoding="utf-8"))["runs"]["sqlite-100"]
    assert run["articles"] == 100 and run["baselines"] == []
    end = run["paired_end"]
    # The large side got the workload's next two feeds (new entries, all created: a replay of the
    # run's own feeds would create none), the empty store as many unseen ones, in two pairs.
    assert end["after_articles"] == 100 and end["pairs"] == 2
    assert end["large"]["articles"] == 100 and end["fresh"]["articles"] == 100
    assert end["ratio"] == pytest.approx(
        end["large"]["ms_per_article_cpu"] / end["fresh"]["ms_per_article_cpu"], abs=1e-3
    )
    for side in (end["large"], end["fresh"]):
        assert set(side["stages_ms_cpu"]) == set(bench.GROWTH_STAGES)
        assert sum(side["stages_ms_cpu"].values()) == pytest.approx(side["ms_per_article_cpu"], rel=0.1)
    low, middle, high = end["pair_ratio_quartiles"]
    assert 0 < low <= middle <= high
    with pytest.raises(SystemExit, match="multiple of 50"):
        bench.main(["--corpus", str(corpus), "growth", "--size", "120", "--json", str(data),
                    "--plot", str(tmp_path / "growth.png")])
    # A run whose names are renewed is kept beside the others, not over them.
    assert bench.main(["--corpus", str(corpus), "growth", "--size", "100", "--slices", "1", "--baseline-every", "0",
                       "--paired", "0", "--vocabulary-period", "40", "--json", str(data),
                       "--plot", str(tmp_path / "growth.png")]) == 0
    runs = json.loads(data.read_text(encoding="utf-8"))["runs"]
    assert runs["sqlite-100-names-every-40"]["vocabulary_period"] == 40
    assert runs["sqlite-100"]["vocabulary_period"] is None
    with pytest.raises(SystemExit):
        bench.main(["--corpus", str(corpus), "growth", "--size", "50", "--vocabulary-period", "-1"])


def test_baseline_items_are_like_the_late_ones_and_never_in_the_run(corpus: Path) -> None:
    run = Workload(corpus)
    run_entries = [entry for item in run.feed_items(1500) for entry in _entries(item)]
    items = bench.baseline_items(corpus, run.seed + 1, 120)
    assert sum(i.articles for i in items) == 120
    entries = [entry for item in items for entry in _entries(item)]
    assert len(entries) == 120 and not set(run_entries) & set(entries)

    def corpus_bodies(texts: list[str]) -> int:
        return sum(1 for text in texts for body in run.bodies if all(p in text for p in body[:3]))

    # The run opens with the corpus bodies; later, like the baseline, it only now and then
    # republishes one (a republished story re-enters the pool of recent ones).
    assert corpus_bodies(run_entries[:120]) >= 25  # 81 bodies, most edited in one of their first lines
    assert corpus_bodies(entries) <= 6 and corpus_bodies(run_entries[-120:]) <= 6


def _entries(item: WorkItem) -> list[str]:
    """The paragraph text of each entry of a feed file."""
    root = etree.fromstring(item.body)
    encoded = "{http://purl.org/rss/1.0/modules/content/}encoded"
    return [
        " ".join(p.text_content() for p in lxml.html.fragment_fromstring(e.text, create_parent="div").iter("p"))
        for e in root.iter(encoded)
    ]


def test_workload_promises_what_it_yields(corpus: Path) -> None:
    items = list(Workload(corpus).feed_items(120, per_feed=50))
    assert [i.articles for i in items] == [50, 50, 20]


def test_writer_alone_stores_every_entry_and_reports_each_slice(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "writer.json"
    assert writer_bench.main(["--corpus", str(corpus), "--feed", "120", "--slices", "3", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (report["entries"], report["stored"], report["errors"]) == (120, 120, 0)
    # 120 entries are three inputs (50, 50, 20): one slice each, their stored counts adding up.
    assert [s["stored"] for s in report["slices"]] == [50, 100, 120]
    assert all(s["ms_per_entry_cpu"] > 0 for s in report["slices"]) and report["ms_per_entry_cpu"] > 0


def test_growth_steps_times_each_step_at_both_sizes_and_puts_them_back(corpus: Path, tmp_path: Path) -> None:
    prepare = CorpusDeduper.prepare
    store = tmp_path / "store.sqlite3"
    args = argparse.Namespace(corpus=str(corpus), size=200, count=100, store=str(store), json=None, vocabulary_period=0)
    report = growth_steps.run(args)
    assert CorpusDeduper.prepare is prepare  # the timers are gone once it is done
    assert report["vocabulary_period"] is None
    assert store.exists() and report["build_cpu_s"] > 0
    for side in ("empty", "large"):
        measured = report[side]
        assert measured["articles"] == 100  # every timed article is new to its store
        assert measured["steps_per_article"]["signing (prepare)"] == 1.0
        assert measured["steps_per_article"]["commits"] > 0
        assert measured["steps_ms_cpu"]["near matching, all of it"] > 0
        labels = ("signing (prepare)", "after save (story text, index entries)")
        steps = sum(measured["steps_ms_cpu"][label] for label in labels)
        assert steps < measured["stages_ms_cpu"]["dedupe"] * 1.05  # both inside the dedupe stage
    # The large store is reused, not built again.
    assert growth_steps.run(args)["build_cpu_s"] is None
