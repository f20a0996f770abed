"""MinHash signatures, many per call, interchangeable with datasketch's.

A signature is the datasketch ``affine32`` MinHash of a text's shingles with ``hashfunc`` =
``dedupe.hashing.shingle_hash32`` and datasketch's own permutations for (``num_perm``, ``seed``):
``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash32)`` fed the same shingles holds the
same values, so a row converts to ``LeanMinHash`` and back without loss and works in
``MinHashLSH`` and its Redis storage unchanged. Only the hashing is vectorised here.

Stored form: ``LeanMinHash.serialize(byteorder="<")`` bytes (13-byte header, then the values as
little-endian uint32). ``SignatureParams`` is recorded next to stored signatures; loading
signatures made with other parameters is refused by ``check_params``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import datasketch
import numpy as np
import numpy.typing as npt
from datasketch import LeanMinHash, MinHash

from dedupe.hashing import ShingleHasher, shingle_hash32
from dedupe.normalize import is_unspaced, normalize, tokens
from dedupe.shingles import DOCUMENT, PARAGRAPH, SHINGLE_SCHEME, ShingleSizes, shingles

SCHEME = "affine32"
_SCHEME_CODE = 1  # datasketch's LeanMinHash code for affine32
_HEADER = struct.Struct("<qiB")
_MAX32 = np.uint32(0xFFFFFFFF)
# Shingles per block of the permutation step (2 MB of uint32 at 128 permutations, the size of
# this machine's L2 cache; measured best, 14% faster than 8 MB blocks).
_CHUNK_SHINGLES = 4096
# Texts per hashing block: keeps the byte-level arrays of a block in cache.
_CHUNK_TEXTS = 1024

SignatureMatrix = npt.NDArray[np.uint32]


class SignatureParamsError(ValueError):
    """Stored signatures were made with parameters other than the configured ones."""


@dataclass(frozen=True)
class SignatureParams:
    num_perm: int = 128
    seed: int = 1
    shingle_scheme: str = SHINGLE_SCHEME
    library: str = f"datasketch-{datasketch.__version__}"
    scheme: str = SCHEME

    def __post_init__(self) -> None:
        if not 16 <= self.num_perm <= 1024:
            raise ValueError(f"num_perm must be in [16, 1024], got {self.num_perm}")
        if self.scheme != SCHEME:
            raise ValueError(f"only the {SCHEME!r} MinHash scheme is supported, got {self.scheme!r}")

    def as_state(self) -> dict[str, str]:
        return {
            "minhash.num_perm": str(self.num_perm),
            "minhash.seed": str(self.seed),
            "minhash.scheme": self.scheme,
            "minhash.shingle_scheme": self.shingle_scheme,
            "minhash.library": self.library,
        }

    def mismatches(self, stored: dict[str, str]) -> dict[str, tuple[str, str]]:
        """Recorded facts that differ from these parameters: key -> (stored, configured)."""
        return {
            key: (stored[key], value)
            for key, value in self.as_state().items()
            if key in stored and stored[key] != value
        }

    def check_params(self, stored: dict[str, str]) -> None:
        mismatched = self.mismatches(stored)
        if mismatched:
            details = ", ".join(f"{k}: stored {s!r}, configured {c!r}" for k, (s, c) in mismatched.items())
            raise SignatureParamsError(
                f"stored signatures were made with other parameters ({details}); "
                "keep the old settings or re-sign them with `newsdedup index rebuild --resign`"
            )


def _fmix32(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    x = values ^ (values >> np.uint32(16))
    x *= np.uint32(0x85EBCA6B)
    x ^= x >> np.uint32(13)
    x *= np.uint32(0xC2B2AE35)
    x ^= x >> np.uint32(16)
    return x


def token_string(normalized: str) -> tuple[str, bool]:
    """The tokens of normalised text joined by single spaces, and whether the text is unspaced."""
    if normalized.isascii():
        return normalized, False
    unspaced = is_unspaced(normalized)
    return " ".join(tokens(normalized)), unspaced


class Signer:
    """Makes MinHash signatures with fixed parameters, one text or a whole batch per call."""

    def __init__(self, params: SignatureParams | None = None) -> None:
        self.params = params or SignatureParams()
        template = MinHash(num_perm=self.params.num_perm, seed=self.params.seed, scheme=SCHEME, hashfunc=shingle_hash32)
        a, b = template.permutations
        self._a = np.ascontiguousarray(a, dtype=np.uint32)
        self._b = np.ascontiguousarray(b, dtype=np.uint32)
        self._a_column = self._a.reshape(-1, 1)
        self._b_column = self._b.reshape(-1, 1)
        self._hasher = ShingleHasher()
        self._header = _HEADER.pack(self.params.seed, -self.params.num_perm, _SCHEME_CODE)

    @property
    def num_perm(self) -> int:
        return self.params.num_perm

    # --- batches ----------------------------------------------------------------------------

    def signatures(
        self, texts: Sequence[str], *, normalized: bool = False, sizes: ShingleSizes = PARAGRAPH
    ) -> SignatureMatrix:
        """One signature row per text (an empty text gets the empty signature)."""
        token_strings: Sequence[str] = texts
        spaced = sizes.for_text(False)
        shingle_sizes: Sequence[int] | int = spaced
        # Normalised ASCII text (the common case) is already its token string: only the
        # other texts take a Python step each.
        if not (normalized and "".join(texts).isascii()):
            strings = list(texts)
            per_text: list[int] | None = None
            for number, text in enumerate(texts):
                if normalized and text.isascii():
                    continue
                joined, unspaced = token_string(text if normalized else normalize(text))
                strings[number] = joined
                if unspaced:
                    if per_text is None:
                        per_text = [spaced] * len(texts)
                    per_text[number] = sizes.for_text(True)
            token_strings = strings
            shingle_sizes = spaced if per_text is None else per_text
        if len(token_strings) <= _CHUNK_TEXTS:  # one chunk (an article): no copy
            hashes, counts = self._hasher.hash_texts(token_strings, shingle_sizes)
            return self.from_shingle_hashes(hashes, counts)
        out = np.empty((len(token_strings), self.num_perm), dtype=np.uint32)
        for first in range(0, len(token_strings), _CHUNK_TEXTS):
            last = first + _CHUNK_TEXTS
            chunk_sizes = shingle_sizes if isinstance(shingle_sizes, int) else shingle_sizes[first:last]
            hashes, counts = self._hasher.hash_texts(token_strings[first:last], chunk_sizes)
            out[first:last] = self.from_shingle_hashes(hashes, counts)
        return out

    def document(
        self, normalized: str, sizes: ShingleSizes = DOCUMENT
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint64]]:
        """The signature of one normalised text (``signatures([text], normalized=True, sizes=sizes)[0]``)
        and its distinct shingles as sorted 64-bit hashes, made in one pass."""
        hashes = self.shingle_hashes(normalized, sizes)
        row = self.from_shingle_hashes((hashes >> np.uint64(32)).astype(np.uint32), np.array([len(hashes)]))[0]
        return row, np.unique(hashes)

    def shingle_hashes(self, normalized: str, sizes: ShingleSizes = DOCUMENT) -> npt.NDArray[np.uint64]:
        """The 64-bit hashes of a normalised text's shingles, one per n-gram (repeats included)."""
        joined, unspaced = token_string(normalized)
        hashes, _ = self._hasher.wide_hashes([joined], sizes.for_text(unspaced))
        return hashes

    def from_shingle_hashes(self, hashes: npt.NDArray[np.uint32], counts: npt.NDArray[np.int64]) -> SignatureMatrix:
        """Signatures from concatenated shingle hash values and the number each text has."""
        mixed = _fmix32(hashes)
        if 0 < len(mixed) <= _CHUNK_SHINGLES and counts.all():
            # Every text has shingles and all fit one block (an article): no scatter.
            block = np.multiply(self._a_column, mixed)
            block += self._b_column
            ends = np.cumsum(counts)
            return np.ascontiguousarray(np.minimum.reduceat(block, ends - counts, axis=1).T)
        out = np.full((len(counts), self.num_perm), _MAX32, dtype=np.uint32)
        if len(hashes) == 0:
            return out
        owners = np.flatnonzero(counts > 0)
        ends = np.cumsum(counts[owners])
        starts = ends - counts[owners]
        # One buffer for every block: fresh multi-megabyte arrays would cost page faults each time.
        buffer = np.empty((self.num_perm, min(len(mixed), _CHUNK_SHINGLES)), dtype=np.uint32)
        first = 0
        while first < len(owners):
            # Texts [first, last) whose shingles fit one block (at least one text per block).
            last = int(np.searchsorted(ends, starts[first] + _CHUNK_SHINGLES, side="right"))
            last = max(last, first + 1)
            low, high = int(starts[first]), int(ends[last - 1])
            if high - low > buffer.shape[1]:
                buffer = np.empty((self.num_perm, high - low), dtype=np.uint32)
            block = buffer[:, : high - low]
            # Permutations along rows, shingles along columns: reduceat runs on contiguous rows.
            np.multiply(self._a_column, mixed[low:high], out=block)
            np.add(block, self._b_column, out=block)
            out[owners[first:last]] = np.minimum.reduceat(block, starts[first:last] - low, axis=1).T
            first = last
        return out

    # --- single signatures (datasketch objects) ----------------------------------------------

    def for_shingles(self, shingle_set: Iterable[str]) -> LeanMinHash:
        values = np.fromiter((shingle_hash32(s) for s in shingle_set), dtype=np.uint32)
        row = self.from_shingle_hashes(values, np.array([len(values)], dtype=np.int64))[0]
        return self.lean(row)

    def for_text(self, text: str) -> LeanMinHash:
        return self.lean(self.signatures([text])[0])

    def lean(self, row: npt.NDArray[np.uint32]) -> LeanMinHash:
        return LeanMinHash(seed=self.params.seed, hashvalues=row, scheme=SCHEME)

    def datasketch_minhash(self) -> MinHash:
        """An empty datasketch MinHash that hashes shingles exactly as this signer does."""
        return MinHash(num_perm=self.num_perm, seed=self.params.seed, scheme=SCHEME, hashfunc=shingle_hash32)

    # --- bytes --------------------------------------------------------------------------------

    def row_bytes(self, row: npt.NDArray[np.uint32]) -> bytes:
        return self._header + row.astype("<u4", copy=False).tobytes()

    def rows_bytes(self, matrix: SignatureMatrix) -> list[bytes]:
        little = matrix.astype("<u4", copy=False)
        return [self._header + little[i].tobytes() for i in range(len(little))]

    def rows_from_bytes(self, blobs: Sequence[bytes]) -> SignatureMatrix:
        """Stored signatures back to a matrix; refuses rows made with other parameters."""
        width = _HEADER.size + 4 * self.num_perm
        joined = b"".join(blobs)
        if len(joined) != width * len(blobs):
            raise SignatureParamsError(f"stored signatures are not {self.num_perm}-permutation {SCHEME} rows")
        raw = np.frombuffer(joined, dtype=np.uint8).reshape(len(blobs), width)
        header = np.frombuffer(self._header, dtype=np.uint8)
        if len(blobs) and not np.array_equal(
            raw[:, : _HEADER.size], np.broadcast_to(header, (len(blobs), _HEADER.size))
        ):
            raise SignatureParamsError(
                f"stored signatures were made with another seed or scheme (expected seed {self.params.seed}, "
                f"{self.num_perm} permutations, {SCHEME})"
            )
        return raw[:, _HEADER.size :].copy().view("<u4").astype(np.uint32, copy=False)

    @staticmethod
    def to_bytes(signature: LeanMinHash) -> bytes:
        buffer = bytearray(signature.bytesize(byteorder="<"))
        signature.serialize(buffer, byteorder="<")
        return bytes(buffer)

    @staticmethod
    def from_bytes(data: bytes) -> LeanMinHash:
        return LeanMinHash.deserialize(data, byteorder="<")


def estimated_jaccard(a: LeanMinHash | npt.NDArray[np.uint32], b: LeanMinHash | npt.NDArray[np.uint32]) -> float:
    left = a.hashvalues if isinstance(a, LeanMinHash) else a
    right = b.hashvalues if isinstance(b, LeanMinHash) else b
    return float(np.count_nonzero(left == right)) / len(left)


def text_shingles(text: str) -> set[str]:
    """Paragraph shingles of raw text (what a paragraph signature is made of)."""
    return shingles(text)
