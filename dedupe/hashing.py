"""Shingle hashes for a whole batch of texts at once, with numpy.

datasketch hashes one shingle per Python call (``hashfunc(b)``), which costs more than all the
rest of MinHash together. Here every shingle of a batch is hashed by a handful of array
operations: a polynomial hash of each token's UTF-8 bytes (``np.add.reduceat``), then a
polynomial of the token hashes for each n-gram, then the MurmurHash3 64-bit finalizer; the
top 32 bits are the shingle's hash value.

``shingle_hash32`` computes the same value for one shingle string in plain Python. Handing it
to datasketch as ``MinHash(hashfunc=shingle_hash32)`` gives bit-identical signatures, which is
what keeps ours interchangeable with datasketch's (``LeanMinHash``, ``MinHashLSH``, its Redis
storage).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

U64 = np.uint64
_MASK64 = (1 << 64) - 1
_P = 0x9E3779B97F4A7C15  # byte polynomial base (odd)
_P_INVERSE = pow(_P, -1, 1 << 64)
_Q = 0xC2B2AE3D27D4EB4F  # token polynomial base (odd)
_K = 0x165667B19E3779F9  # token length salt
_C1 = 0xFF51AFD7ED558CCD
_C2 = 0xC4CEB9FE1A85EC53

UInt64Array = npt.NDArray[np.uint64]
UInt32Array = npt.NDArray[np.uint32]
Int64Array = npt.NDArray[np.int64]


def fmix64(values: UInt64Array) -> UInt64Array:
    """MurmurHash3's 64-bit finalizer, element-wise (wrap-around multiplication intended)."""
    x = values ^ (values >> U64(33))
    x *= U64(_C1)
    x ^= x >> U64(33)
    x *= U64(_C2)
    x ^= x >> U64(33)
    return x


def _fmix64_int(x: int) -> int:
    x ^= x >> 33
    x = (x * _C1) & _MASK64
    x ^= x >> 33
    x = (x * _C2) & _MASK64
    return x ^ (x >> 33)


def token_hash(token: bytes) -> int:
    """The 64-bit hash of one token's UTF-8 bytes (reference implementation)."""
    value = 0
    power = 1
    for byte in token:
        value = (value + (byte + 1) * power) & _MASK64
        power = (power * _P) & _MASK64
    return _fmix64_int((value + len(token) * _K) & _MASK64)


def shingle_hash32(shingle: bytes | str) -> int:
    """The 32-bit hash of one shingle (tokens joined by single spaces), for datasketch's ``hashfunc``."""
    data = shingle.encode("utf-8") if isinstance(shingle, str) else shingle
    combined = 0
    for part in data.split(b" "):
        combined = (combined * _Q + token_hash(part)) & _MASK64
    return _fmix64_int(combined) >> 32


class ShingleHasher:
    """Hashes the shingles of many texts per call. Keeps a table of powers between calls."""

    def __init__(self) -> None:
        self._powers: UInt64Array = np.ones(1, dtype=U64)
        self._inverse: UInt64Array = np.ones(1, dtype=U64)

    def _power_tables(self, length: int) -> tuple[UInt64Array, UInt64Array]:
        """P^i and P^-i (mod 2^64) for i < length; P is odd, so it has an inverse."""
        if len(self._powers) < length:
            size = max(length, 2 * len(self._powers), 1024)
            table = np.full(size, _P, dtype=U64)
            table[0] = 1
            self._powers = np.cumprod(table, dtype=U64)
            table[1:] = _P_INVERSE
            self._inverse = np.cumprod(table, dtype=U64)
        return self._powers, self._inverse

    def token_hashes(self, joined: bytes) -> UInt64Array:
        """Hashes of the space-separated tokens of ``joined`` (no empty tokens)."""
        buffer = np.frombuffer(joined, dtype=np.uint8)
        length = len(buffer)
        spaces = np.flatnonzero(buffer == 32)
        starts = np.empty(len(spaces) + 1, dtype=np.int64)
        starts[0] = 0
        starts[1:] = spaces + 1
        ends = np.empty_like(starts)
        ends[:-1] = spaces
        ends[-1] = length
        lengths = ends - starts
        # Byte i contributes (b_i + 1) * P^i; a token's sum times P^-start is then
        # sum_j (b_j + 1) * P^j over its own bytes, whatever its place in the buffer.
        powers, inverse = self._power_tables(length)
        contributions = (buffer.astype(U64) + U64(1)) * powers[:length]
        contributions[spaces] = 0
        sums = np.add.reduceat(contributions, starts) * inverse[starts]
        return fmix64(sums + lengths.astype(U64) * U64(_K))

    def hash_texts(
        self, token_strings: Sequence[str], sizes: Sequence[int] | Int64Array
    ) -> tuple[UInt32Array, Int64Array]:
        """Shingle hashes of each text, concatenated in text order, and how many each text has.

        ``token_strings[i]`` holds text i's tokens joined by single spaces (empty for no
        tokens); ``sizes[i]`` is its n-gram size. A text with fewer tokens than its size has one
        shingle, all of its tokens.
        """
        count = len(token_strings)
        size_array = np.asarray(sizes, dtype=np.int64)
        token_counts = np.fromiter(((s.count(" ") + 1) if s else 0 for s in token_strings), dtype=np.int64, count=count)
        shingle_counts = np.where(
            token_counts >= size_array, token_counts - size_array + 1, np.minimum(token_counts, 1)
        ).astype(np.int64)
        total = int(shingle_counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.uint32), shingle_counts
        joined = " ".join(s for s in token_strings if s).encode("utf-8")
        tokens = self.token_hashes(joined)
        first_token = np.cumsum(token_counts) - token_counts
        owner = np.repeat(np.arange(count, dtype=np.int64), shingle_counts)
        first_shingle = np.cumsum(shingle_counts) - shingle_counts
        position = first_token[owner] + (np.arange(total, dtype=np.int64) - first_shingle[owner])
        width = np.minimum(size_array, token_counts)[owner]
        combined = np.empty(total, dtype=U64)
        for span in np.unique(width):
            selected = np.flatnonzero(width == span)
            start = position[selected]
            value = tokens[start].copy()
            for offset in range(1, int(span)):
                value *= U64(_Q)
                value += tokens[start + offset]
            combined[selected] = value
        return (fmix64(combined) >> U64(32)).astype(np.uint32), shingle_counts
