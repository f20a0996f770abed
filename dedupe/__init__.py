"""The pure dedupe core: normalisation, shingles, MinHash signatures, LSH and the decisions.

Takes text and keys, returns verdicts. Imports nothing else of ours and does no I/O.
"""

from dedupe.boilerplate import BoilerplateVerdict, Lexicon, classify
from dedupe.intra import Repeat, find_repeats
from dedupe.normalize import norm_hash, normalize, word_count
from dedupe.shingles import containment, jaccard, shingles
from dedupe.signatures import SignatureParams, SignatureParamsError, Signer, estimated_jaccard

__all__ = [
    "BoilerplateVerdict",
    "Lexicon",
    "Repeat",
    "SignatureParams",
    "SignatureParamsError",
    "Signer",
    "classify",
    "containment",
    "estimated_jaccard",
    "find_repeats",
    "jaccard",
    "norm_hash",
    "normalize",
    "shingles",
    "word_count",
]
