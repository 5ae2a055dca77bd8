"""Chapter 10's applications: grapheme-to-phoneme conversion, response generation, constrained verse.

- G2P as translation: ``G2PTask`` (CMUdict split by word, tokenizer, tensors), ``g2p_predict``
  (greedy or beam search with chapter 03's encoder–decoder), ``ContextG2P`` (a classic baseline:
  letters aligned to phoneme chunks by hard EM, then a back-off table of letter contexts); ``train_g2p``
  trains the encoder–decoder, ``shipped_g2p`` loads the chapter's (or trains it when the file is absent).
- Dialogue: ``reply_logprob`` scores log p(reply | turn) with a character language model trained
  on "turn TAB reply NEWLINE" lines; ``mmi_scores`` ranks candidates by log p(T|S) − λ log p(T)
  (Li et al. 2016).
- Verse: ``FormatConstraint`` — a template of fixed characters and content slots, enforced at
  decoding time by masking the logits that would break it
  (``decoding.generate(..., processors=[decoding.constrain(form.allowed)])``).
"""

from __future__ import annotations

import collections
import math
import time
from dataclasses import dataclass

import torch

from . import data, metrics, results
from .decoding import beam_search, constrain, generate
from .lm import token_logprobs
from .train import History, fit, warmup_cosine
from .transformer import Seq2SeqTransformer
from .utils import check_positive_int, eval_mode, load_model, seed_everything


# --------------------------------------------------------------------------- G2P data
@dataclass
class G2PTask:
    """CMUdict words split 80/10/10 *by word* (all pronunciations of a word stay in one split).

    ``pairs[split]`` lists (word, pronunciation) with one row per pronunciation; ``refs[split]``
    maps each word to all its pronunciations (a prediction is right when it equals any of them).
    """

    words: dict[str, list[str]]
    refs: dict[str, dict[str, tuple[str, ...]]]
    pairs: dict[str, list[tuple[str, str]]]
    tok: data.CharTokenizer
    max_len: int

    @classmethod
    def build(cls, max_word_len: int = 20, seed: int = 0) -> G2PTask:
        max_word_len = check_positive_int(max_word_len, "max_word_len")
        lexicon = data.load_cmudict()
        kept = [w for w in lexicon if len(w) <= max_word_len]
        train, val, test = data.split_items(kept, seed=seed)
        words = {"train": train, "val": val, "test": test}
        refs = {k: {w: lexicon[w] for w in ws} for k, ws in words.items()}
        pairs = {k: [(w, p) for w in ws for p in lexicon[w]] for k, ws in words.items()}
        letters = sorted(set("".join(kept)))
        tok = data.CharTokenizer([data.PAD, data.BOS,
                                  data.EOS] + letters + [data.phones_to_chars([p]) for p in data.ARPABET])
        longest = max(max(len(w) for w in kept), max(len(p) for w in kept for p in lexicon[w]))
        return cls(words, refs, pairs, tok, longest + 1)

    def tensors(self, split: str):
        """(src, tgt_in, tgt_out) for every pronunciation of the split, as ``data.encode_pairs``."""
        if split not in self.pairs:
            raise ValueError(f"split must be one of {sorted(self.pairs)}, got {split!r}")
        return data.encode_pairs(self.pairs[split], self.tok, self.max_len)


def train_g2p(task: G2PTask, *, d_model: int = 64, n_heads: int = 4, n_layers: int = 2, dropout: float = 0.0,
              lr: float = 3e-3, batch: int = 128, steps: int = 800, warmup: int = 50, seed: int = 0,
              **fit_kwargs) -> tuple[Seq2SeqTransformer, History]:
    """Chapter 10's G2P encoder–decoder (and ``benchmarks/g2p.py``'s, with larger settings): AdamW
    (weight decay 0.01), linear warmup then cosine decay, gradient clipping at 1, batches of
    ``batch`` random training pairs cut to their longest row; ``fit_kwargs`` go to ``fit``."""
    seed_everything(seed)
    pad = task.tok.stoi[data.PAD]
    model = Seq2SeqTransformer(**g2p_config(task, d_model=d_model, n_heads=n_heads, n_layers=n_layers, dropout=dropout))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    rows = data.random_rows(*task.tensors("train"), batch_size=batch)
    hist = fit(model, opt, lambda g: trim_batch(rows(g), pad), steps=steps, grad_clip=1.0,
               scheduler=warmup_cosine(opt, warmup, steps), seed=seed, **fit_kwargs)
    return model.eval(), hist


def g2p_config(task: G2PTask, *, d_model: int = 64, n_heads: int = 4, n_layers: int = 2, dropout: float = 0.0) -> dict:
    """The ``Seq2SeqTransformer`` keyword arguments of ``train_g2p``'s model for ``task`` (letters in, phonemes out,
    one shared vocabulary)."""
    V = task.tok.vocab_size
    return {"src_vocab": V, "tgt_vocab": V, "max_len": task.max_len, "d_model": d_model, "n_heads": n_heads,
            "n_layers": n_layers, "pad_id": task.tok.stoi[data.PAD], "dropout": dropout}


G2P_CHECKPOINT = results.ROOT / "data" / "checkpoints" / "g2p_chapter.pt"


def shipped_g2p(task: G2PTask):
    """Chapter 10's G2P encoder–decoder exactly as ``train_g2p(task, steps=800)`` trains it (seed 0): the weights
    ``benchmarks/g2p_chapter.py`` wrote, loaded with ``weights_only=True``, when the file is there; otherwise the
    recipe trains it now. Returns (the model in eval mode, a sentence saying which of the two happened)."""
    if G2P_CHECKPOINT.is_file():
        model = load_model(Seq2SeqTransformer, G2P_CHECKPOINT, "")
        if model.src_emb.num_embeddings != task.tok.vocab_size:
            raise ValueError(f"{G2P_CHECKPOINT.name} was trained for another vocabulary "
                             f"({model.src_emb.num_embeddings} symbols, the task has {task.tok.vocab_size})")
        return model, f"loaded the shipped G2P model ({G2P_CHECKPOINT.name}, written by benchmarks/g2p_chapter.py)"
    start = time.perf_counter()
    model, _ = train_g2p(task, steps=800, desc="G2P encoder-decoder")
    seconds = time.perf_counter() - start
    return model, f"no shipped {G2P_CHECKPOINT.name}: trained the model with its recipe ({seconds:.0f} s)"


def trim_batch(batch, pad_id: int = 0):
    """Cut the all-PAD columns off the right of every tensor of a (src, tgt_in, tgt_out) batch."""
    out = []
    for t in batch:
        used = (t != pad_id).any(dim=0).nonzero()
        out.append(t[:, : int(used.max()) + 1] if len(used) else t[:, :1])
    return tuple(out)


def _strip(ids: list[int], task: G2PTask) -> str:
    """Decoder ids → phoneme string, stopping at EOS, dropping specials."""
    eos, specials = task.tok.stoi[data.EOS], {task.tok.stoi[c] for c in (data.PAD, data.BOS, data.EOS)}
    ids = ids[: ids.index(eos)] if eos in ids else ids
    return task.tok.decode([i for i in ids if i not in specials])


@torch.no_grad()
def g2p_predict(model, task: G2PTask, words: list[str], beam_width: int = 1, batch_size: int = 512) -> list[str]:
    """Pronunciations (``phones_to_chars`` strings) of ``words``: greedy when ``beam_width`` is 1,
    else beam search (length penalty 1, i.e. ranked by mean log-probability per phoneme)."""
    beam_width = check_positive_int(beam_width, "beam_width")
    bad = [w for w in words if not w or len(w) >= task.max_len or set(w) - task.tok.stoi.keys()]
    if bad:
        raise ValueError(f"cannot pronounce {bad[:5]}: empty, too long or with unknown letters")
    bos, eos, pad = (task.tok.stoi[c] for c in (data.BOS, data.EOS, data.PAD))
    with eval_mode(model):
        out = []
        for start in range(0, len(words), batch_size):
            chunk = words[start:start + batch_size]
            src = torch.full((len(chunk), max(map(len, chunk))), pad, dtype=torch.long)  # (B, S)
            for i, w in enumerate(chunk):
                src[i, : len(w)] = task.tok.encode(w)
            if beam_width == 1:
                out += [_strip(row.tolist(), task) for row in model.greedy(src, bos, eos, max_new=task.max_len - 1)]
            else:
                for row in src:
                    lm = model.conditioned(row[row != pad][None])
                    best = beam_search(lm, torch.tensor([bos]), beam_width, task.max_len - 1, eos_id=eos)[0][0]
                    out.append(_strip(best.tolist(), task))
    return out


def g2p_scores(predictions: list[str], words: list[str], refs: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """PER and WER of predictions against every word's reference pronunciations (see ``metrics``)."""
    references = [refs[w] for w in words]
    return {"per": metrics.phoneme_error_rate(predictions, references),
            "wer": metrics.word_error_rate(predictions, references)}


# --------------------------------------------------------------------------- G2P baseline
class ContextG2P:
    """Letter-context back-off G2P: each letter emits a chunk of 0, 1 or 2 phonemes.

    Training aligns every (word, pronunciation) pair by hard EM, started from letter–phoneme
    co-occurrence counts: a Viterbi pass maximises Σ_i log p(chunk_i | letter_i) over the monotone
    segmentations of the phonemes into one chunk per letter, then p(chunk | letter) is
    re-estimated from the counts. Prediction takes,
    for each letter, the most frequent chunk seen with the widest letter window (±``context``
    letters, '#' beyond the word) that occurred in training, backing off to narrower windows.
    """

    def __init__(self, context: int = 3, iterations: int = 3):
        self.context = check_positive_int(context, "context")
        self.iterations = check_positive_int(iterations, "iterations")
        self.tables: list[dict[str, collections.Counter]] = []

    @staticmethod
    def _align(word: str, phones: str, logp: dict) -> list[str] | None:
        """Viterbi: the best segmentation of ``phones`` into len(word) chunks of 0–2 phonemes."""
        n, m = len(word), len(phones)
        best = {(0, 0): (0.0, None)}  # (letters done, phones done) → (score, previous state)
        for i in range(n):
            for j in range(m + 1):
                if (i, j) not in best:
                    continue
                for k in (0, 1, 2):
                    if j + k > m:
                        break
                    s = best[(i, j)][0] + logp.get((word[i], phones[j:j + k]), -20.0)
                    if s > best.get((i + 1, j + k), (-math.inf,))[0]:
                        best[(i + 1, j + k)] = (s, (i, j))
        if (n, m) not in best:
            return None  # more than two phonemes per letter: not alignable with this model
        chunks, state = [], (n, m)
        while state != (0, 0):
            prev = best[state][1]
            chunks.append(phones[prev[1]:state[1]])
            state = prev
        return chunks[::-1]

    @staticmethod
    def _cooccurrence_start(pairs: list[tuple[str, str]]) -> dict:
        """A starting table for EM: log p(chunk | letter) = Σ_{φ ∈ chunk} log c(letter, φ)/c(letter), with
        c(letter, φ) the number of words whose spelling has the letter and whose pronunciation has φ
        (an empty chunk costs log 0.1). Without it, the first Viterbi pass breaks its many ties
        arbitrarily and EM locks into alignments shifted by a letter."""
        cooc, phones = collections.Counter(), set()
        for w, p in pairs:
            cooc.update((letter, ph) for letter in set(w) for ph in set(p))
            phones.update(p)
        total = collections.Counter()
        for (letter, _), c in cooc.items():
            total[letter] += c
        single = {key: math.log(c / total[key[0]]) for key, c in cooc.items()}
        logp = {}
        for letter in total:
            logp[(letter, "")] = math.log(0.1)
            for a in phones:
                if (letter, a) in single:
                    logp[(letter, a)] = single[(letter, a)]
                    for b in phones:
                        if (letter, b) in single:
                            logp[(letter, a + b)] = single[(letter, a)] + single[(letter, b)]
        return logp

    def fit(self, pairs: list[tuple[str, str]]) -> ContextG2P:
        if not pairs:
            raise ValueError("fit needs at least one (word, pronunciation) pair")
        logp = self._cooccurrence_start(pairs)
        for _ in range(self.iterations):
            counts = collections.Counter()
            alignments = [(w, self._align(w, p, logp)) for w, p in pairs]
            for w, chunks in alignments:
                if chunks is not None:
                    counts.update(zip(w, chunks))
            per_letter = collections.Counter()
            for (letter, _), c in counts.items():
                per_letter[letter] += c
            logp = {key: math.log(c / per_letter[key[0]]) for key, c in counts.items()}
        self.logp = logp  # log p(chunk | letter) of the last EM iteration
        self.tables = [collections.defaultdict(collections.Counter) for _ in range(self.context + 1)]
        for w, chunks in alignments:
            if chunks is None:
                continue
            padded = "#" * self.context + w + "#" * self.context
            for i, chunk in enumerate(chunks):
                for k in range(self.context + 1):
                    self.tables[k][padded[i + self.context - k: i + self.context + k + 1]][chunk] += 1
        self.aligned = sum(chunks is not None for _, chunks in alignments) / len(pairs)
        return self

    def predict(self, word: str) -> str:
        if not self.tables:
            raise ValueError("call fit before predict")
        padded = "#" * self.context + word + "#" * self.context
        out = []
        for i in range(len(word)):
            for k in range(self.context, -1, -1):
                seen = self.tables[k].get(padded[i + self.context - k: i + self.context + k + 1])
                if seen:
                    out.append(seen.most_common(1)[0][0])
                    break
        return "".join(out)


def _wrong_positions(hyp: str, ref: str) -> tuple[set[int], set[int]]:
    """Backtrace of the edit distance: the reference positions substituted or deleted, and the
    reference positions before which a phoneme was inserted."""
    D = metrics.edit_table(hyp, ref)
    wrong, inserted, i, j = set(), set(), len(hyp), len(ref)
    while i > 0 or j > 0:
        if i > 0 and j > 0 and D[i][j] == D[i - 1][j - 1] + (hyp[i - 1] != ref[j - 1]):
            if hyp[i - 1] != ref[j - 1]:
                wrong.add(j - 1)
            i, j = i - 1, j - 1
        elif j > 0 and D[i][j] == D[i][j - 1] + 1:
            wrong.add(j - 1)  # reference phoneme deleted
            j -= 1
        else:
            inserted.add(j)  # extra phoneme before reference position j
            i -= 1
    return wrong, inserted


def letter_errors(model: ContextG2P, words: list[str], predictions: list[str],
                  refs: dict[str, tuple[str, ...]]) -> dict[str, tuple[int, int]]:
    """Per letter: (times it was pronounced wrongly, times it occurred). The closest reference is
    aligned to the letters (``ContextG2P._align`` with the model's table); the edit-distance
    backtrace marks the reference phonemes the prediction got wrong; a letter is wrong when a
    phoneme of its chunk is wrong, or, for a silent letter, when a phoneme was inserted where it
    stands. Words whose reference does not align are skipped."""
    if not model.tables:
        raise ValueError("the ContextG2P model must be fitted (its alignment table is used)")
    tally: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for word, pred in zip(words, predictions):
        ref = min(refs[word], key=lambda r: metrics.edit_distance(pred, r))
        chunks = model._align(word, ref, model.logp)
        if chunks is None:
            continue
        wrong, inserted = _wrong_positions(pred, ref)
        pos = 0
        for letter, chunk in zip(word, chunks):
            span = range(pos, pos + len(chunk))
            bad = any(p in wrong for p in span) if chunk else pos in inserted
            tally[letter][0] += bad
            tally[letter][1] += 1
            pos += len(chunk)
    return {k: (v[0], v[1]) for k, v in sorted(tally.items())}


# --------------------------------------------------------------------------- dialogue
TURN_SEP, REPLY_END = "\t", "\n"


def dialogue_text(pairs: list[tuple[str, str]], p_unconditional: float = 0.0, seed: int = 0) -> str:
    """Training text "turn TAB reply NEWLINE" per pair; a fraction ``p_unconditional`` of the lines
    drop the turn ("TAB reply NEWLINE"), so that the same model also learns p(reply) alone."""
    if not 0.0 <= p_unconditional < 1.0:
        raise ValueError(f"p_unconditional must be in [0, 1), got {p_unconditional!r}")
    drop = torch.rand(len(pairs), generator=torch.Generator().manual_seed(seed)) < p_unconditional
    return "".join(("" if d else s) + TURN_SEP + r + REPLY_END for (s, r), d in zip(pairs, drop.tolist()))


@torch.no_grad()
def reply_logprob(model, tok, turns: list[str], replies: list[str], batch_size: int = 256) -> torch.Tensor:
    """log p(reply + NEWLINE | NEWLINE + turn + TAB) in nats under a language model, one per pair (N,).

    An empty turn gives the unconditional log p(reply). When turn and reply exceed the model's
    context (``block_size``), only the turn's last tokens are read. Pairs are scored in batches,
    right-padded (a causal model never reads the padding of a row before that row's end).
    """
    if len(turns) != len(replies) or not turns:
        raise ValueError("turns and replies must be non-empty lists of the same length")
    limit = getattr(model, "block_size", None)
    rows = []
    for turn, reply in zip(turns, replies):
        context = tok.encode(REPLY_END + turn + TURN_SEP)  # (C,)
        target = tok.encode(reply + REPLY_END)  # (R,)
        if limit is not None and len(target) > limit:
            raise ValueError(f"the reply ({len(target)} tokens) is longer than the model's block_size {limit}")
        if limit is not None and len(context) + len(target) - 1 > limit:
            context = context[len(context) + len(target) - 1 - limit:]  # keep the turn's last tokens
        rows.append((context, target))
    out = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        T = max(len(c) + len(t) for c, t in chunk)
        ids = torch.zeros(len(chunk), T, dtype=torch.long)  # (B, T), right-padded with id 0
        scored = torch.zeros(len(chunk), T - 1, dtype=torch.bool)  # (B, T − 1): positions that predict the reply
        for i, (c, t) in enumerate(chunk):
            ids[i, : len(c) + len(t)] = torch.cat([c, t])
            scored[i, len(c) - 1: len(c) + len(t) - 1] = True
        with eval_mode(model):
            out.append((token_logprobs(model, ids) * scored).sum(dim=1))  # (B,)
    return torch.cat(out)


def mmi_scores(logp_cond: torch.Tensor, logp_uncond: torch.Tensor, lam: float) -> torch.Tensor:
    """MMI-antiLM score of Li et al. (2016): log p(T | S) − λ log p(T); λ = 0 is plain likelihood."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam!r}")
    if logp_cond.shape != logp_uncond.shape:
        raise ValueError("the two score tensors must have the same shape")
    return logp_cond - lam * logp_uncond


def dialogue_corpus(vocab: int = 2000, p_unconditional: float = 0.2) -> dict:
    """The chapter's dialogue data: (turn, reply) pairs of every play (``data.dialogue_pairs``),
    split by play like the course's LM data (validation and test plays held out), a word
    tokenizer of the ``vocab`` most frequent training tokens, and the training id stream of
    ``dialogue_text(train pairs, p_unconditional)``."""
    plays = data.load_plays()
    held = {slug for slugs in data.SHAKESPEARE_HELD_OUT.values() for slug in slugs}
    train = [p for slug, text in plays.items() if slug not in held for p in data.dialogue_pairs(text)]
    split = {name: [p for slug in slugs for p in data.dialogue_pairs(plays[slug])]
             for name, slugs in data.SHAKESPEARE_HELD_OUT.items()}
    text = dialogue_text(train, p_unconditional)
    tok = data.WordTokenizer.from_texts([text], vocab, keep=TURN_SEP + REPLY_END)
    return {"train": train, **split, "tok": tok, "train_ids": tok.encode(text)}


# A second dialogue GPT, the chapter's recipe with another seed: an independent judge of the chapter's replies
SCORER_SETTINGS = {"block": 48, "batch": 32, "steps": 500, "seed": 1}
SCORER_CHECKPOINT = results.ROOT / "data" / "checkpoints" / "dialogue_scorer.pt"


def train_dialogue_scorer(dialog: dict, progress: bool = True):
    """Chapter 10's word GPT trained by its recipe (``recipes.train_gpt``, block 48, batch 32, 500 steps) with
    seed 1 instead of 0: a scorer of $\\log p(T \\mid S)$ that did not generate the replies it judges. Returns
    (model in eval mode, its constructor arguments, final training loss, seconds)."""
    from .recipes import GPT_SETTINGS, char_lm_config, train_gpt

    s = dict(SCORER_SETTINGS)
    seed = s.pop("seed")
    model, hist, seconds = train_gpt(dialog["train_ids"], dialog["tok"].vocab_size, seed=seed, progress=progress, **s)
    config = char_lm_config("gpt", dialog["tok"].vocab_size, GPT_SETTINGS.replace(block=s["block"]))
    return model.eval(), config, hist.last("loss"), seconds


def shipped_dialogue_scorer(dialog: dict):
    """The scorer of ``train_dialogue_scorer``: the weights ``benchmarks/dialogue_scorer.py`` wrote (loaded with
    ``weights_only=True``) when the file is there, otherwise trained now. Returns (model, a sentence saying which)."""
    from .transformer import GPT

    if SCORER_CHECKPOINT.is_file():
        model = load_model(GPT, SCORER_CHECKPOINT, "")
        if model.tok_emb.num_embeddings != dialog["tok"].vocab_size:
            raise ValueError(f"{SCORER_CHECKPOINT.name} was trained for another vocabulary "
                             f"({model.tok_emb.num_embeddings} tokens, the corpus has {dialog['tok'].vocab_size})")
        return model, f"loaded the shipped scorer ({SCORER_CHECKPOINT.name}, written by benchmarks/dialogue_scorer.py)"
    model, _, _, seconds = train_dialogue_scorer(dialog)
    return model, f"no shipped {SCORER_CHECKPOINT.name}: trained the scorer with seed 1 ({seconds:.0f} s)"


def reply_perplexity(model, tok, turns: list[str], replies: list[str]) -> dict[str, float]:
    """Per-token perplexity of ``replies`` (each with its end token) given their turns, and without them."""
    n = sum(len(tok.encode(r + REPLY_END)) for r in replies)
    cond = reply_logprob(model, tok, turns, replies).sum().item()
    uncond = reply_logprob(model, tok, [""] * len(replies), replies).sum().item()
    return {"conditional": math.exp(-cond / n), "unconditional": math.exp(-uncond / n)}


def ban_tokens(vocab_size: int, banned_ids: list[int]):
    """A mask function for ``decoding.constrain`` that forbids ``banned_ids`` everywhere."""
    ok = torch.ones(vocab_size, dtype=torch.bool)
    ok[list(banned_ids)] = False
    return lambda idx, step: ok.to(idx.device).expand(idx.shape[0], -1)  # (B, V)


@torch.no_grad()
def generate_replies(model, tok, turns: list[str], method: str = "greedy", *, max_tokens: int = 20,
                     n_candidates: int = 8, top_p: float = 0.9, lam: float = 0.5, beam_width: int = 5,
                     seed: int = 0) -> list[str]:
    """One reply per turn. ``method``: "greedy", "beam" (best of ``beam_width``, length-normalised),
    "sample" (τ = 1), "top-p", or "mmi" / "likelihood" (rerank ``n_candidates`` top-p samples by
    log p(T|S) − λ log p(T) with λ = ``lam`` / 0). The unknown-word token and TAB are never generated."""
    methods = ("greedy", "beam", "sample", "top-p", "mmi", "likelihood")
    if method not in methods:
        raise ValueError(f"method must be one of {methods}, got {method!r}")
    end = tok.stoi[REPLY_END]
    banned = [tok.stoi[TURN_SEP]] + ([tok.stoi[tok.UNK]] if hasattr(tok, "UNK") else [])
    no_banned = [constrain(ban_tokens(tok.vocab_size, banned))]
    generator = torch.Generator().manual_seed(seed)
    replies = []
    for turn in turns:
        prompt = tok.encode(REPLY_END + turn + TURN_SEP)[None]  # (1, C)
        if method == "beam":
            best = beam_search(model, prompt, beam_width, max_tokens, eos_id=end, processors=no_banned)[0][0].tolist()
            replies.append(tok.decode([i for i in best if i != end]))
            continue
        n = n_candidates if method in ("mmi", "likelihood") else 1
        out = generate(model, prompt.expand(n, -1), max_tokens, greedy=method == "greedy", eos_id=end,
                       top_p=top_p if method != "sample" and method != "greedy" else None, use_cache=True,
                       generator=generator, processors=no_banned)[:, prompt.shape[1]:]  # (n, ≤ max_tokens)
        cands = [tok.decode([i for i in row.tolist() if i != end]) for row in out]
        if n > 1:
            cands = [c if c else "." for c in cands]
            cond = reply_logprob(model, tok, [turn] * n, cands)
            uncond = reply_logprob(model, tok, [""] * n, cands)
            cands = [cands[int(mmi_scores(cond, uncond, lam if method == "mmi" else 0.0).argmax())]]
        replies.append(cands[0])
    return replies


def reply_diversity(tok, replies: list[str]) -> dict[str, float]:
    """distinct-1, distinct-2 (word tokens, pooled), the share taken by the most frequent reply,
    and the mean reply length in tokens."""
    tokens = [tok.tokens(r) for r in replies]
    top = collections.Counter(replies).most_common(1)[0][1]
    return {"distinct_1": metrics.distinct_n(tokens, 1), "distinct_2": metrics.distinct_n(tokens, 2),
            "top_reply_share": top / len(replies), "mean_tokens": sum(map(len, tokens)) / len(tokens)}


def retrieval_hits(model, tok, turns: list[str], replies: list[str], n_distractors: int = 9, seed: int = 0,
                   exclude=None) -> list[bool]:
    """For each reply $T_i$: does $\\log p(T_i \\mid S_i)$ beat $\\log p(T_i \\mid S_j)$ for ``n_distractors`` other
    turns $S_j$ drawn at random (the same draw for every set of replies, given ``seed``)? ``exclude(i, j)``, when
    given, rules turn j out as a distractor for reply i (the draw then skips it)."""
    if len(turns) != len(replies) or len(turns) <= n_distractors:
        raise ValueError("need as many replies as turns, and more turns than distractors")
    g = torch.Generator().manual_seed(seed)
    hits = []
    for i, reply in enumerate(replies):
        order = torch.randperm(len(turns), generator=g).tolist()
        others = [j for j in order if j != i and not (exclude and exclude(i, j))][:n_distractors]
        if len(others) < n_distractors:
            raise ValueError(f"exclude leaves reply {i} fewer than {n_distractors} distractors")
        cands = [turns[i]] + [turns[j] for j in others]
        scores = reply_logprob(model, tok, cands, [reply if reply else "."] * len(cands))
        hits.append(int(scores.argmax()) == 0)
    return hits


def retrieval_accuracy(model, tok, turns: list[str], replies: list[str], n_distractors: int = 9,
                       seed: int = 0) -> float:
    """How often a reply scores its own turn highest, log p(T | S), among itself and
    ``n_distractors`` other turns drawn at random (chance = 1 / (n_distractors + 1)): a measure
    of how specific to the turn the replies are (the mean of ``retrieval_hits``)."""
    hits = retrieval_hits(model, tok, turns, replies, n_distractors, seed)
    return sum(hits) / len(hits)


def chained(pairs: list[tuple[str, str]]):
    """``exclude`` for ``retrieval_hits`` on consecutive (turn, reply) pairs of a play, where one pair's reply is
    often the next pair's turn: rules out the turns of the neighbouring pairs (i - 1, i + 1), a turn equal to the
    reply itself, and a turn equal to turn i (the same line spoken twice)."""
    def exclude(i: int, j: int) -> bool:
        return abs(i - j) <= 1 or pairs[j][0] == pairs[i][1] or pairs[j][0] == pairs[i][0]
    return exclude


# --------------------------------------------------------------------------- constrained verse
class FormatConstraint:
    """A verse form as a template: ``slot`` marks a free content character, any other character
    must appear literally. ``allowed(idx, step)`` returns the (B, V) boolean mask of the tokens
    that keep each row on the template at new-token position ``step``.

    E.g. a five-character quatrain: ``"_____，_____。\\n_____，_____。"`` with ``slot="_"``; the content
    set is every token that is not a template literal and not in ``exclude`` (e.g. punctuation).
    """

    def __init__(self, template: str, tok: data.CharTokenizer, slot: str = "_", exclude: str = ""):
        if not template or len(slot) != 1:
            raise ValueError("template must be non-empty and slot one character")
        literals = set(template) - {slot}
        missing = sorted(literals - tok.stoi.keys())
        if missing:
            raise ValueError(f"template characters not in the vocabulary: {''.join(missing)!r}")
        self.template, self.slot = template, slot
        self.banned = banned = literals | set(exclude)
        self.content = torch.tensor([c not in banned for c in tok.itos])  # (V,)
        if not self.content.any():
            raise ValueError("no token is left for the content slots")
        self.literal_ids = {i: tok.stoi[c] for i, c in enumerate(template) if c != slot}
        self.vocab_size = tok.vocab_size

    def __len__(self) -> int:
        return len(self.template)

    def allowed(self, idx: torch.Tensor, step: int) -> torch.Tensor:
        if not 0 <= step < len(self.template):
            raise ValueError(f"step {step} is outside the template (length {len(self.template)})")
        if step in self.literal_ids:
            mask = torch.zeros(self.vocab_size, dtype=torch.bool)
            mask[self.literal_ids[step]] = True
        else:
            mask = self.content
        return mask.to(idx.device).expand(idx.shape[0], -1)  # (B, V)

    def matches(self, text: str) -> bool:
        """Whether ``text`` has the template's form: same length, every literal in place, and a
        content character (not a literal, not excluded) in every slot."""
        return len(text) == len(self.template) and all(
            ch == t if t != self.slot else ch not in self.banned for ch, t in zip(text, self.template))


@torch.no_grad()
def continuation_logprob(model, seqs: torch.Tensor, prompt_len: int) -> torch.Tensor:
    """Σ_t log p(x_t | x_<t) over the tokens after the first ``prompt_len`` of each row, under the
    model without any constraint; (B,) in nats."""
    if seqs.dim() != 2 or not 1 <= prompt_len < seqs.shape[1]:
        raise ValueError("seqs must be (B, T) and prompt_len in [1, T)")
    return token_logprobs(model, seqs)[:, prompt_len - 1:].sum(dim=1)


def sample_verse(model, tok, form: FormatConstraint, n: int, prompt: str, *, constrained: bool,
                 temperature: float = 1.0, seed: int = 0) -> tuple[list[str], torch.Tensor]:
    """``n`` samples of ``len(form)`` characters after ``prompt``, with or without the form enforced by
    masking; returns the texts and their log-probability under the unconstrained model (n,)."""
    n = check_positive_int(n, "n")
    start = tok.encode(prompt)[None].expand(n, -1)  # (n, P)
    out = generate(model, start, len(form), temperature=temperature, generator=torch.Generator().manual_seed(seed),
                   use_cache=True, processors=[constrain(form.allowed)] if constrained else [])  # (n, P + len(form))
    texts = [tok.decode(row[start.shape[1]:]) for row in out]
    return texts, continuation_logprob(model, out, start.shape[1])
