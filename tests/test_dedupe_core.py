"""The pure dedupe core on corpus text: signatures = datasketch's, LSH recall, the band index."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from datasketch import LeanMinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from benchmarks.corpus_bodies import Corpus
from dedupe.hashing import ShingleHasher, shingle_hash32
from dedupe.lsh import SKETCH_WIDTH, BandIndex, LshParams, band_keys, fingerprints, sketch_similarity, sketches
from dedupe.near import Candidate, NearBlock, NearRule, best_match, signatures_may_reach
from dedupe.normalize import normalize
from dedupe.shingles import DOCUMENT, shingles
from dedupe.signatures import SignatureParams, SignatureParamsError, Signer, estimated_jaccard
from dedupe.story import StoryRule, body_shingles, hashed_story_similarity, may_be_same_story, story_similarity
from ingest.corpus_dedupe import SIGNATURE_MARGIN, STORY_ESTIMATE_MARGIN


@pytest.fixture(scope="module")
def paragraphs(corpus: Path) -> list[str]:
    found: list[str] = []
    for story in Corpus(corpus).stories():
        found.extend(story.paragraphs)
        found.extend(story.captions)
    return found


def test_signatures_equal_datasketch_minhash_with_our_hashfunc(paragraphs: list[str]) -> None:
    """Every script in the corpus: the vectorised rows are bit-identical to datasketch's."""
    signer = Signer()
    sample = paragraphs[:: max(1, len(paragraphs) // 400)]
    matrix = signer.signatures(sample)
    for text, row in zip(sample, matrix, strict=True):
        minhash = signer.datasketch_minhash()
        minhash.update_batch([s.encode("utf-8") for s in shingles(text)])
        assert np.array_equal(minhash.hashvalues, row), text
        # Stored bytes are LeanMinHash's own format.
        lean = LeanMinHash(minhash)
        assert signer.row_bytes(row) == Signer.to_bytes(lean)
        assert np.array_equal(Signer.from_bytes(signer.row_bytes(row)).hashvalues, row)


def test_shingle_hashes_match_the_reference_function(paragraphs: list[str]) -> None:
    hasher = ShingleHasher()
    sample = [normalize(p) for p in paragraphs[:50]]
    hashes, counts = hasher.hash_texts(sample, [3] * len(sample))
    offset = 0
    for text, count in zip(sample, counts.tolist(), strict=True):
        words = text.split()
        expected = [shingle_hash32(" ".join(words[i : i + 3])) for i in range(max(1, len(words) - 2))]
        if len(words) < 3:
            expected = [shingle_hash32(" ".join(words))]
        assert sorted(hashes[offset : offset + count].tolist()) == sorted(expected)
        offset += count


def test_our_signatures_work_in_datasketch_lsh(paragraphs: list[str]) -> None:
    signer = Signer()
    params = LshParams.for_threshold(0.45, signer.num_perm)
    lsh = MinHashLSH(num_perm=signer.num_perm, params=(params.bands, params.rows))
    texts = [p for p in paragraphs if len(p.split()) > 20][:200]
    matrix = signer.signatures(texts)
    for i, row in enumerate(matrix):
        lsh.insert(f"p{i}", signer.lean(row))
    edited = texts[7].split()
    edited[5] = "berbeda"
    query = signer.datasketch_minhash()
    query.update_batch([s.encode() for s in shingles(" ".join(edited))])
    assert "p7" in lsh.query(query)


def test_stored_rows_with_other_parameters_are_refused(paragraphs: list[str]) -> None:
    ours, theirs = Signer(), Signer(SignatureParams(seed=2))
    blobs = theirs.rows_bytes(theirs.signatures(paragraphs[:3]))
    with pytest.raises(SignatureParamsError, match="seed"):
        ours.rows_from_bytes(blobs)
    with pytest.raises(SignatureParamsError, match="index rebuild --resign"):
        ours.params.check_params({"minhash.num_perm": "64"})


@pytest.mark.parametrize("threshold", [0.45, 0.5, 0.6, 0.7, 0.8])
def test_lsh_parameters_find_pairs_at_the_threshold(threshold: float) -> None:
    params = LshParams.for_threshold(threshold, 128)
    assert params.width <= 128
    assert params.probability(threshold) >= 0.99
    assert params.probability(threshold / 4) < 0.25  # the sketch estimate filters the rest
    # datasketch's default weights find a pair at the threshold far less often.
    bands, rows = _optimal_param(threshold, 128, 0.5, 0.5)
    assert LshParams(bands, rows).probability(threshold) < 0.9


@pytest.mark.parametrize("threshold", [0.45, 0.5])
def test_lsh_parameters_leave_the_sketch_its_columns_when_they_can(threshold: float) -> None:
    reserved = LshParams.for_threshold(threshold, 128, reserve=SKETCH_WIDTH)
    assert reserved.width <= 128 - SKETCH_WIDTH
    assert reserved.probability(threshold) >= 0.99
    # 64 permutations cannot leave 80: the choice is then the one made without the reserve.
    assert LshParams.for_threshold(threshold, 64, reserve=SKETCH_WIDTH) == LshParams.for_threshold(threshold, 64)


def test_sketch_estimates_use_the_reserved_columns(paragraphs: list[str]) -> None:
    """A one-word edit of a long paragraph keeps an estimate near its Jaccard, from 80 columns."""
    params = LshParams.for_threshold(0.5, 128, reserve=SKETCH_WIDTH)
    signer = Signer()
    text = next(p for p in paragraphs if len(p.split()) >= 40)
    words = text.split()
    words[len(words) // 2] = "kata"
    other = next(p for p in paragraphs if len(p.split()) >= 20 and p != text)
    matrix = signer.signatures([text, " ".join(words), other])
    assert sketches(matrix, params).shape == (3, SKETCH_WIDTH)
    estimate = sketch_similarity(sketches(matrix[:1], params), sketches(matrix[1:2], params))[0]
    assert estimate > 0.7
    assert sketch_similarity(sketches(matrix[:1], params), sketches(matrix[2:3], params))[0] < 0.2


def test_band_index_finds_near_copies_and_stays_small(paragraphs: list[str]) -> None:
    signer = Signer()
    params = LshParams.for_threshold(0.45, signer.num_perm)
    texts = list(dict.fromkeys(p for p in paragraphs if len(p.split()) >= 20))
    index = BandIndex(params)
    index.insert(signer.signatures(texts), np.arange(len(texts), dtype=np.int64), 100)
    assert index.nbytes / len(index) < 1024
    edited = []
    for text in texts[:100]:
        words = text.split()
        words[len(words) // 2] = "kata"
        edited.append(" ".join(words))
    found = index.query(signer.signatures(edited), min_estimate=0.2)
    hits = set(zip(found.query.tolist(), found.ref.tolist(), strict=True))
    assert all((i, i) in hits for i in range(100))
    # Old entries leave with the window.
    index.insert(signer.signatures(edited[:10]), np.arange(10_000, 10_010, dtype=np.int64), 90)
    assert index.prune(min_day=95) == 10
    assert len(index) == len(texts)
    assert len(index.query(signer.signatures(texts[:5]), min_estimate=0.9)) >= 5


def _signed_with_near_copies(
    texts: list[str], copied: list[str]
) -> tuple[LshParams, npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """``texts`` then a one-word edit of each of ``copied``: the 0.45 index's parameters and the
    blocks' signatures, band prints and sketches."""
    signer = Signer()
    params = LshParams.for_threshold(0.45, signer.num_perm)
    edited = []
    for text in copied:
        words = text.split()
        words[len(words) // 2] = "kata"
        edited.append(" ".join(words))
    matrix = signer.signatures([*texts, *edited])
    return params, matrix, fingerprints(band_keys(matrix, params)), sketches(matrix, params)


def _band_pairs(
    prints: npt.NDArray[np.uint32],
    estimates: npt.NDArray[np.uint8],
    first: int,
    count: int,
    held: npt.NDArray[np.bool_],
) -> set[tuple[int, int]]:
    """By brute force: (row of the batch at ``first``, earlier block) pairs sharing a band print
    whose sketches agree to 0.2, of the earlier blocks the index still ``held``."""
    pairs = set()
    for row in range(count):
        shared = np.flatnonzero(np.isin(prints[:first], prints[first + row]).any(axis=1))
        query = np.repeat(estimates[first + row : first + row + 1], len(shared), axis=0)
        close = sketch_similarity(query, estimates[shared]) >= 0.2
        pairs |= {(row, int(old)) for old in shared[close] if held[old]}
    return pairs


def test_band_index_candidates_match_a_brute_force_band_comparison(
    paragraphs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many runs, merges and directories built in small steps give exactly the pairs sharing a band."""
    import dedupe.lsh as lsh

    monkeypatch.setattr(lsh, "_DIRECTORY_STEP", 64)  # directory steps cut inside every run
    params, matrix, prints, estimates = _signed_with_near_copies(paragraphs[:1200], paragraphs[:300:3])
    index = BandIndex(params)
    first = pairs = 0
    for size in [400, 1, 25, 3, 25, 25, 200, 25, 7] * 30:
        rows = matrix[first : first + size]
        if not len(rows):
            break
        days = np.arange(first, first + len(rows)) % 5
        found = index.query_and_insert(
            rows, np.arange(first, first + len(rows), dtype=np.int64) * 10, days, min_day=1, min_estimate=0.2
        )
        got = set(zip(found.query.tolist(), (found.ref // 10).tolist(), strict=True))
        want = _band_pairs(prints, estimates, first, len(rows), np.arange(first) % 5 >= 1)
        assert got == want
        pairs += len(got)
        first += len(rows)
    assert first == len(matrix)
    assert pairs >= 50
    assert len(index._table.runs) > 1


def test_pruned_band_index_finds_exactly_the_pairs_left_in_the_window(
    paragraphs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days pass while the index fills: after every prune, queries find exactly the stored blocks
    still in the window that share a band (and pass the sketch), and the runs stay runs."""
    import dedupe.lsh as lsh

    monkeypatch.setattr(lsh, "_DIRECTORY_STEP", 64)  # prune steps cut inside every run
    # Near copies of earlier paragraphs, found while both are in the window.
    params, matrix, prints, estimates = _signed_with_near_copies(paragraphs[:900], paragraphs[:900:2])
    index = BandIndex(params)
    day_of = np.zeros(len(matrix), dtype=np.int64)
    first = pairs = pruned = 0
    for batch, size in enumerate([200, 25, 3, 25, 60, 1, 25, 7] * 40):
        rows = matrix[first : first + size]
        if not len(rows):
            break
        day = batch // 4
        min_day = max(0, day - 3)
        if batch % 4 == 0:
            pruned += index.prune(min_day)
            runs = index._table.runs
            assert len(index) == np.count_nonzero(day_of[:first] >= min_day)
        day_of[first : first + len(rows)] = day
        found = index.query_and_insert(
            rows, np.arange(first, first + len(rows), dtype=np.int64), day, min_day=min_day, min_estimate=0.2
        )
        got = set(zip(found.query.tolist(), found.ref.tolist(), strict=True))
        want = _band_pairs(prints, estimates, first, len(rows), day_of[:first] >= min_day)
        assert got == want
        pairs += len(got)
        first += len(rows)
    assert first == len(matrix)
    assert pairs >= 50 and pruned > 0
    assert len(runs) > 1  # a prune keeps the runs it found, each filtered in place


def test_band_keys_are_stable_across_batches(paragraphs: list[str]) -> None:
    signer = Signer()
    params = LshParams(bands=20, rows=3)
    together = band_keys(signer.signatures(paragraphs[:20]), params)
    apart = np.vstack([band_keys(signer.signatures([p]), params) for p in paragraphs[:20]])
    assert np.array_equal(together, apart)


def test_near_rule_confirms_by_actual_jaccard(paragraphs: list[str]) -> None:
    rule = NearRule()
    text = next(p for p in paragraphs if len(p.split()) >= 30)
    words = text.split()
    words[10] = "x"
    candidate = Candidate(5, NearBlock(normalize(" ".join(words))), 0.9)
    match = best_match(NearBlock(normalize(text)), [candidate], rule)
    assert match is not None and match.ref == 5 and rule.threshold <= match.similarity < 1
    # A short line sharing words with another is not its copy.
    short_a = NearBlock(normalize("Presiden Joko Widodo meresmikan bendungan baru di Jawa Tengah"))
    short_b = Candidate(6, NearBlock(normalize("Presiden Joko Widodo meresmikan jalan tol baru di Sumatra Utara")), 0.5)
    assert best_match(short_a, [short_b], rule) is None


def test_story_similarity_separates_copies_from_same_event_stories(corpus: Path) -> None:
    stories = Corpus(corpus).stories()
    rule = StoryRule()
    by_cluster: dict[str, list[list[str]]] = {}
    for story in stories:
        if story.cluster and not story.cluster.startswith(("wayback", "urlvariant")):
            by_cluster.setdefault(story.cluster, []).append(story.paragraphs)
    pairs = 0
    for bodies in by_cluster.values():
        for i in range(len(bodies)):
            for j in range(i + 1, len(bodies)):
                similarity = story_similarity(body_shingles(bodies[i]), body_shingles(bodies[j]))
                assert not similarity.same_story(rule), similarity.explain()
                pairs += 1
    assert pairs >= 10
    story = stories[0].paragraphs
    assert story_similarity(body_shingles(story[:-1]), body_shingles(story)).same_story(rule)


def test_hashed_story_similarity_equals_the_shingle_sets(corpus: Path) -> None:
    """Bodies as 64-bit shingle hashes: the same signature, sizes and overlap as the n-gram sets,
    in every script of the corpus (unspaced ones use grapheme 8-grams)."""
    signer = Signer()
    stories = Corpus(corpus).stories()
    languages = {s.language for s in stories}
    assert len(languages) >= 3
    bodies = [" ".join(normalize(p) for p in s.paragraphs) for s in stories]
    # Pairs that share text: a body against itself trimmed, and against the next story's.
    pairs = [(b, " ".join(b.split()[: len(b.split()) * 2 // 3])) for b in bodies]
    pairs += list(itertools.pairwise(bodies))
    pairs += [("", bodies[0]), ("one two", "one two")]
    for new, old in pairs:
        row, new_hashes = signer.document(new)
        assert np.array_equal(row, signer.signatures([new], normalized=True, sizes=DOCUMENT)[0])
        old_hashes = signer.document(old)[1]
        expected = story_similarity(body_shingles([new], normalized=True), body_shingles([old], normalized=True))
        assert hashed_story_similarity(new_hashes, old_hashes) == expected


def test_story_bar_is_the_containment_bar_as_a_jaccard_when_that_is_lower() -> None:
    rule = StoryRule()  # Jaccard 0.5 or containment 0.7
    # Equal bodies: containment 0.7 means Jaccard 0.54, so the Jaccard bar (0.5) is the one.
    assert may_be_same_story(0.5, 300, 300, rule, 0.0)
    assert not may_be_same_story(0.49, 300, 300, rule, 0.0)
    assert may_be_same_story(0.3, 300, 300, rule, 0.2)
    assert not may_be_same_story(0.29, 300, 300, rule, 0.2)
    # A short update inside a long story: 70 of its 100 shingles shared is Jaccard 70/530.
    assert may_be_same_story(0.133, 100, 500, rule, 0.0)
    assert not may_be_same_story(0.13, 500, 100, rule, 0.0)
    # Too short to call either way.
    assert not may_be_same_story(1.0, rule.min_shingles - 1, 500, rule, 0.2)


def test_story_estimate_gate_keeps_every_same_story_pair_and_drops_shared_paragraph_pairs(corpus: Path) -> None:
    """Pairs made from the corpus's real bodies: trimmed copies, updates and bodies inside longer
    ones (same story), and other stories carrying one paragraph of a story (not)."""
    signer = Signer()
    rule = StoryRule()
    bodies = [[normalize(p) for p in s.paragraphs] for s in Corpus(corpus).stories() if len(s.paragraphs) >= 6]
    assert len(bodies) >= 40

    def verdicts(new: list[str], old: list[str]) -> tuple[bool, bool]:
        new_row, new_hashes = signer.document(" ".join(new))
        old_row, old_hashes = signer.document(" ".join(old))
        same = hashed_story_similarity(new_hashes, old_hashes).same_story(rule)
        estimate = estimated_jaccard(new_row, old_row)
        return same, may_be_same_story(estimate, len(new_hashes), len(old_hashes), rule, STORY_ESTIMATE_MARGIN)

    same_pairs = kept = shared_pairs = dropped = 0
    for body, other in itertools.pairwise(bodies):
        for new, old in (
            (body[: len(body) * 3 // 4], body),  # a trimmed copy
            (body, body[:-2]),  # an update that adds to the story
            (body[1:4], [*other, *body]),  # a short piece inside a long one
        ):
            same, passed = verdicts(new, old)
            if same:
                same_pairs += 1
                kept += passed
        same, passed = verdicts([*other, body[2]], body)
        assert not same
        shared_pairs += 1
        dropped += not passed
    assert kept == same_pairs >= 3 * len(bodies) // 2
    # Measured 59 of 77: the rest are bodies of very different lengths, where containment's bar
    # (as a Jaccard) is low enough that only the texts can tell.
    assert dropped >= 0.7 * shared_pairs


def test_signature_screen_keeps_every_confirmed_copy_and_drops_unrelated_paragraphs(corpus: Path) -> None:
    """Real paragraphs against copies with 3% to 20% of their words replaced, and against
    other paragraphs: a pair the texts would confirm is never screened out."""
    signer = Signer()
    rule = NearRule()
    paragraphs = [p for s in Corpus(corpus).stories() for p in s.paragraphs if len(p.split()) >= 6]
    assert len(paragraphs) >= 400
    rng = random.Random(20261126)
    pairs: list[tuple[str, str]] = []
    unrelated: list[int] = []
    for paragraph in paragraphs[:400]:
        words = paragraph.split()
        for share in (0.03, 0.06, 0.1, 0.15, 0.2):
            edited = list(words)
            for i in rng.sample(range(len(words)), max(1, round(share * len(words)))):
                edited[i] = f"w{rng.randrange(10**6)}"
            pairs.append((" ".join(edited), paragraph))
        unrelated.append(len(pairs))
        pairs.append((paragraph, rng.choice(paragraphs)))
    new = signer.signatures([a for a, _ in pairs])
    old = signer.signatures([b for _, b in pairs])
    confirmed: list[bool] = []
    bars: list[float] = []
    for a, b in pairs:
        block, other = NearBlock(normalize(a)), NearBlock(normalize(b))
        compared = block.compare(other, rule)
        confirmed.append(compared is not None and compared[0] >= compared[1])
        bars.append(rule.threshold_for(len(block.tokens)) or 1.0)  # the screen knows the new block only
    passed = signatures_may_reach(new, old, np.array(bars), SIGNATURE_MARGIN)
    kept = [i for i, c in enumerate(confirmed) if c]
    assert len(kept) >= 1000 and len(kept) < len(pairs) - len(unrelated)
    assert all(passed[i] for i in kept)
    unrelated_dropped = sum(not passed[i] for i in unrelated if not confirmed[i])
    assert unrelated_dropped >= 0.95 * sum(not confirmed[i] for i in unrelated)
