"""The language-model settings of chapters 02–03 as functions, so that later chapters and the
benchmark scripts rebuild exactly the same models instead of copying training code.

Every recipe seeds everything, builds the model, and trains it with the shared loop ``fit``
on random windows of the training ids (``lm_batch``).
"""

from __future__ import annotations

import time

import torch

from . import data
from .rnn import RecurrentLM
from .train import fit
from .transformer import GPT
from .utils import seed_everything

__all__ = ["RNN_SETTINGS", "GPT_SETTINGS", "english_splits", "train_recurrent_lm", "train_gpt"]

RNN_SETTINGS = dict(d_embed=64, d_hidden=128, block=64, batch=32, lr=3e-3, steps=400, clip=1.0)  # chapter 02
GPT_SETTINGS = dict(d_model=128, n_heads=4, n_layers=2, block=64, batch=32, lr=2e-3, weight_decay=0.01,
                    steps=500, clip=1.0)  # chapter 03


def english_splits():
    """The course's English LM data: tokenizer and the 80/10/10 in-order train/val/test id split."""
    text = data.load_corpus("english")
    tok = data.CharTokenizer.from_text(text)
    train_ids, rest = data.split_ids(tok.encode(text), val_fraction=0.2)
    val_ids, test_ids = data.split_ids(rest, val_fraction=0.5)
    return tok, train_ids, val_ids, test_ids


def _train(model, opt, train_ids, block, batch, steps, clip, seed, desc, **fit_kwargs):
    start = time.perf_counter()
    history = fit(model, opt, lambda g: data.lm_batch(train_ids, block, batch, g), steps=steps, grad_clip=clip,
                  desc=desc, seed=seed, **fit_kwargs)
    return model, history, time.perf_counter() - start


def train_recurrent_lm(cell: str, train_ids: torch.Tensor, vocab_size: int, *, seed: int = 0, **overrides):
    """Chapter 02's character LM: returns (model, history, seconds). ``overrides`` may change any
    key of ``RNN_SETTINGS`` and pass ``eval_fn``, ``eval_every`` or ``progress`` to ``fit``."""
    s = {**RNN_SETTINGS, **{k: v for k, v in overrides.items() if k in RNN_SETTINGS}}
    fit_kwargs = {k: v for k, v in overrides.items() if k not in RNN_SETTINGS}
    seed_everything(seed)
    model = RecurrentLM(vocab_size, cell, s["d_embed"], s["d_hidden"])
    opt = torch.optim.Adam(model.parameters(), lr=s["lr"])
    return _train(model, opt, train_ids, s["block"], s["batch"], s["steps"], s["clip"], seed, f"{cell} LM", **fit_kwargs)


def train_gpt(train_ids: torch.Tensor, vocab_size: int, *, seed: int = 0, **overrides):
    """Chapter 03's GPT: returns (model, history, seconds); ``overrides`` as in ``train_recurrent_lm``."""
    s = {**GPT_SETTINGS, **{k: v for k, v in overrides.items() if k in GPT_SETTINGS}}
    fit_kwargs = {k: v for k, v in overrides.items() if k not in GPT_SETTINGS}
    seed_everything(seed)
    model = GPT(vocab_size, s["block"], s["d_model"], s["n_heads"], s["n_layers"])
    opt = torch.optim.AdamW(model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
    return _train(model, opt, train_ids, s["block"], s["batch"], s["steps"], s["clip"], seed, "GPT", **fit_kwargs)
