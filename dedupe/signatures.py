"""MinHash signatures (datasketch), stored as compact bytes.

Signatures are datasketch ``LeanMinHash`` objects, so datasketch's LSH and its Redis storage
work on them unchanged. ``SignatureParams`` is recorded next to stored signatures; loading
signatures made with other parameters is refused by ``check_params``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import datasketch
import numpy as np
from datasketch import LeanMinHash, MinHash

from dedupe.shingles import SHINGLE_SCHEME, shingles


class SignatureParamsError(ValueError):
    """Stored signatures were made with parameters other than the configured ones."""


@dataclass(frozen=True)
class SignatureParams:
    num_perm: int = 128
    seed: int = 1
    shingle_scheme: str = SHINGLE_SCHEME
    library: str = f"datasketch-{datasketch.__version__}"

    def __post_init__(self) -> None:
        if not 16 <= self.num_perm <= 1024:
            raise ValueError(f"num_perm must be in [16, 1024], got {self.num_perm}")

    def as_state(self) -> dict[str, str]:
        return {
            "minhash.num_perm": str(self.num_perm),
            "minhash.seed": str(self.seed),
            "minhash.shingle_scheme": self.shingle_scheme,
            "minhash.library": self.library,
        }

    def check_params(self, stored: dict[str, str]) -> None:
        mismatched = {
            key: (stored[key], value)
            for key, value in self.as_state().items()
            if key in stored and stored[key] != value
        }
        if mismatched:
            details = ", ".join(f"{k}: stored {s!r}, configured {c!r}" for k, (s, c) in mismatched.items())
            raise SignatureParamsError(
                f"stored signatures were made with other parameters ({details}); "
                "keep the old settings or run `newsdedup index rebuild --resign`"
            )


class Signer:
    """Makes MinHash signatures for text with fixed parameters."""

    def __init__(self, params: SignatureParams | None = None) -> None:
        self.params = params or SignatureParams()
        template = MinHash(num_perm=self.params.num_perm, seed=self.params.seed)
        self._template = template

    def for_shingles(self, shingle_set: Iterable[str]) -> LeanMinHash:
        minhash = self._template.copy()
        encoded = [s.encode("utf-8") for s in shingle_set]
        if encoded:
            minhash.update_batch(encoded)
        return LeanMinHash(minhash)

    def for_text(self, text: str) -> LeanMinHash:
        return self.for_shingles(shingles(text))

    @staticmethod
    def to_bytes(signature: LeanMinHash) -> bytes:
        buffer = bytearray(signature.bytesize())
        signature.serialize(buffer)
        return bytes(buffer)

    @staticmethod
    def from_bytes(data: bytes) -> LeanMinHash:
        return LeanMinHash.deserialize(data)


def estimated_jaccard(a: LeanMinHash, b: LeanMinHash) -> float:
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / len(a.hashvalues)
