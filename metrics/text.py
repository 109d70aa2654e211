"""Explanation quality: corpus BLEU through sacrebleu and ROUGE-1/2/L through rouge-score.

Tokenizers. sacrebleu's default ``13a`` leaves an unsegmented Japanese sentence as one token, so
samples whose text language is Japanese, Chinese or Korean use sacrebleu's ``char`` tokenizer
(chosen over ``ja-mecab``, whose result depends on an installed dictionary); others use ``13a``.
Corpus BLEU sums each sample's n-gram statistics, so a corpus mixing languages still gives one
BLEU, and the signature names every tokenizer used (``tok:13a+char``).

rouge-score's default tokenizer keeps only ``[a-z0-9]``: Japanese text becomes no tokens and
scores 0.0 against itself. :class:`LatinCjkTokenizer` keeps those runs (so it equals the default on
text without CJK characters) and adds every CJK character as a token. ROUGE per sample is the
F-measure against the best-matching reference (``score_multi``), averaged over samples.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

CJK_LANGS = frozenset({"ja", "zh", "ko", "yue"})
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


class LatinCjkTokenizer:
    """rouge-score tokenizer: lower-cased ``[a-z0-9]+`` runs (as the default) plus single CJK characters."""

    name = "latin+cjk-char"

    def tokenize(self, text: str) -> list[str]:
        """Lower-cased Latin words and single CJK characters, so ROUGE works on Japanese too."""
        return _ROUGE_TOKEN.findall(text.lower())


def bleu_tokenizer(lang: str) -> str:
    """sacrebleu tokenizer name for a sample's text language."""
    return "char" if lang.split("-")[0] in CJK_LANGS else "13a"


@lru_cache(maxsize=8)
def _bleu(tokenize: str):
    # lazy: sacrebleu
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=tokenize)


def bleu_stats(hypotheses: Sequence[str], references: Sequence[Sequence[str]],
               tokenizers: Sequence[str]) -> np.ndarray:
    """Per-sample sacrebleu statistics (hyp_len, ref_len, 4 matches, 4 totals), shape (n, 10)."""
    if not len(hypotheses) == len(references) == len(tokenizers):
        raise ValueError(f"inconsistent numbers of samples: [{len(hypotheses)}, {len(references)}, {len(tokenizers)}]")
    rows = []
    for i, (hyp, refs, tok) in enumerate(zip(hypotheses, references, tokenizers)):
        if not refs:
            raise ValueError(f"sample {i}: no reference")
        rows.extend(_bleu(tok)._extract_corpus_statistics([hyp], [[ref] for ref in refs]))
    return np.asarray(rows, dtype=float).reshape(len(rows), 10)


def bleu_from_sums(sums: np.ndarray) -> np.ndarray:
    """Corpus BLEU (0-100, sacrebleu's scale and smoothing ``exp``) of summed statistics, any leading shape."""
    bleu = _bleu("13a")  # the score formula does not depend on the tokenizer
    flat = np.asarray(sums).reshape(-1, 10)
    values = [bleu._compute_score_from_stats([int(v) for v in np.rint(row)]).score for row in flat]
    return np.asarray(values, dtype=float).reshape(np.shape(sums)[:-1])


def bleu_signature(tokenizers: Sequence[str], n_refs: Sequence[int]) -> str:
    """sacrebleu's signature string; ``nrefs:var`` and ``tok:a+b`` where samples differ."""
    # lazy: sacrebleu
    import sacrebleu

    nrefs = sorted(set(n_refs))
    toks = sorted(set(tokenizers))
    return (f"nrefs:{nrefs[0] if len(nrefs) == 1 else 'var'}|case:mixed|eff:no|tok:{'+'.join(toks)}"
            f"|smooth:exp|version:{sacrebleu.__version__}")


@lru_cache(maxsize=1)
def _rouge_scorer():
    # lazy: rouge-score; rouge_score.rouge_scorer imports nltk, which imports
    # scipy.stats, scikit-learn and pandas (seconds at start-up), though ROUGE-1/2/L with our tokenizer
    # use none of it. Only a non-empty hypothesis needs the scorer (see rouge_f).
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False, tokenizer=LatinCjkTokenizer())


def rouge_f(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> np.ndarray:
    """Per-sample ROUGE-1/2/L F-measures against the best reference, shape (n, 3)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"inconsistent numbers of samples: [{len(hypotheses)}, {len(references)}]")
    out = np.zeros((len(hypotheses), len(ROUGE_TYPES)))
    tokenizer = LatinCjkTokenizer()
    for i, (hyp, refs) in enumerate(zip(hypotheses, references)):
        if not refs:
            raise ValueError(f"sample {i}: no reference")
        if not tokenizer.tokenize(hyp):
            # A hypothesis without tokens (no explanation given) scores 0 against any reference in
            # rouge-score (precision and recall 0); answered without importing the scorer.
            continue
        scores = _rouge_scorer().score_multi(list(refs), hyp)
        out[i] = [scores[t].fmeasure for t in ROUGE_TYPES]
    return out
