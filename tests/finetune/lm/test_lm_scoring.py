"""Exact label scoring (shared prompt cache, label prefix tree, head only at label positions)
against naive per-label scoring with full-vocabulary logits."""

from __future__ import annotations

import numpy as np
import pytest

from labelcore.errors import ModelError
from finetune.backends.lm.prompts import encode_labels, encode_prompts
from finetune.backends.lm.scoring import (
    LabelTree,
    label_log_probs,
    label_probabilities,
    naive_label_log_probs,
)

LABELS = ["card", "card_arrival", "card_linking", "cash_withdrawal", "exchange_rate", "pin_blocked"]
TEXTS = [
    "hi",
    "I am still waiting on my card to arrive, it has been two weeks and nothing has come",
    "Why was I charged an extra fee for this transfer?",
]


def _load(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


@pytest.mark.parametrize(
    "arch, batch_size, label_chunk, vocab_chunk_rows",
    [("gemma3", 2, 3, 2), ("qwen2", 16, 256, 64), ("llama", 1, 2, 1)],
)
def test_scores_equal_naive_per_label_scoring(tiny_models, arch, batch_size, label_chunk, vocab_chunk_rows):
    model, tok = _load(tiny_models[arch])
    # Prompts of very different lengths share a batch (left padding); the longest is past
    # the tiny Gemma's 16-token sliding window.
    prompts = encode_prompts(tok, TEXTS, template="Text: {text}\nLabel:", max_length=128)
    assert len({len(p) for p in prompts}) == 3 and max(len(p) for p in prompts) > 16
    labels = encode_labels(tok, LABELS, prefix=" ", eos=True)
    ours = label_log_probs(
        model, prompts, labels, pad_id=tok.pad_token_id,
        batch_size=batch_size, label_chunk=label_chunk, vocab_chunk_rows=vocab_chunk_rows,
    )
    naive = naive_label_log_probs(model, prompts, labels)
    assert ours.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(ours, naive, atol=1e-5, rtol=0)
    np.testing.assert_allclose(label_probabilities(ours), label_probabilities(naive), atol=1e-5)


def test_probabilities_are_a_softmax_over_labels():
    log_probs = np.log(np.array([[0.1, 0.2, 0.05], [1e-30, 1e-31, 1e-29]]))
    probs = label_probabilities(log_probs)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[0], np.array([0.1, 0.2, 0.05]) / 0.35)
    assert np.argmax(probs[1]) == 2


def test_label_tree_shares_prefixes_and_covers_every_parent():
    labels = [[5, 6, 7, 1], [5, 6, 8, 1], [5, 1], [9, 1]]
    tree = LabelTree.build(labels)
    assert len(tree.nodes) == len({tuple(l[: j + 1]) for l in labels for j in range(len(l))}) == 9
    np.testing.assert_array_equal(tree.membership.sum(axis=0), [len(l) for l in labels])
    assert tree.children[(5,)] == [1, 6] and tree.children[(5, 6)] == [7, 8]
    covered = {r[: j + 1] for r in tree.rows for j in range(len(r))}
    assert set(tree.children) <= covered
    assert len(tree.rows) == 3  # (5,6,7), (5,6,8), (9,): no row is a prefix of another


def test_a_label_that_tokenises_to_nothing_is_refused(tiny_models):
    _, tok = _load(tiny_models["llama"])
    with pytest.raises(ModelError, match="tokenises to nothing"):
        encode_labels(tok, ["card", "   "], prefix=" ", eos=True)


def test_long_prompts_keep_the_template_tail(tiny_models):
    _, tok = _load(tiny_models["qwen2"])
    [ids] = encode_prompts(tok, ["word " * 200], template="Text: {text}\nLabel:", max_length=24)
    assert len(ids) == 24
    assert tok.decode(ids).endswith("\nLabel:")


def _count_head_rows(model, monkeypatch) -> list[int]:
    """Rows projected onto the vocabulary, per call (a call that tiles the vocabulary counts
    its rows once: at its first tile, whose weight starts where the head's does)."""
    import torch

    rows: list[int] = []
    head_start = model.get_output_embeddings().weight.data_ptr()
    linear = torch.nn.functional.linear

    def counting_linear(x, weight, bias=None):
        if weight.data_ptr() == head_start:
            rows.append(x.reshape(-1, x.shape[-1]).shape[0])
        return linear(x, weight, bias)

    monkeypatch.setattr(torch.nn.functional, "linear", counting_linear)
    return rows


def test_the_vocabulary_head_runs_only_at_label_prefix_positions(tiny_models, monkeypatch):
    model, tok = _load(tiny_models["qwen2"])
    prompts = encode_prompts(tok, TEXTS, template="Text: {text}\nLabel:", max_length=128)
    labels = encode_labels(tok, LABELS, prefix=" ", eos=True)
    rows = _count_head_rows(model, monkeypatch)
    label_log_probs(model, prompts, labels, pad_id=tok.pad_token_id)
    n_parents = len(LabelTree.build(labels).children)
    # one row per prompt (its last position) + one per distinct label prefix and prompt
    assert sum(rows) == len(TEXTS) * (1 + n_parents)
    assert n_parents < sum(len(lab) for lab in labels) - len(labels)  # shared prefixes saved work


def test_training_loss_projects_only_label_tokens(tiny_models, monkeypatch):
    import torch

    from finetune.backends.lm.training import RightPadCollator, generative_examples, label_token_loss

    model, tok = _load(tiny_models["llama"])
    prompts = encode_prompts(tok, TEXTS, template="Text: {text}\nLabel:", max_length=128)
    labels = encode_labels(tok, LABELS[:3], prefix=" ", eos=True)
    batch = RightPadCollator(tok.pad_token_id)(generative_examples(prompts, labels))
    rows = _count_head_rows(model, monkeypatch)
    loss = label_token_loss(model, batch)
    assert rows == [sum(len(lab) for lab in labels)]
    # the same value as the model's own loss over the full vocabulary at every position
    reference = model(**batch).loss
    torch.testing.assert_close(loss, reference, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("bias, softcap", [(False, None), (True, 5.0)])
@pytest.mark.parametrize("vocab_tile, rows_per_pass", [(7, 3), (4096, 4096)])
def test_tiled_vocabulary_log_probs_equal_the_full_log_softmax(tiny_models, bias, softcap, vocab_tile, rows_per_pass):
    import torch

    from finetune.backends.lm.lm_head import head_logits, token_log_probs

    model, _ = _load(tiny_models["gemma3"])
    torch.manual_seed(0)
    head = model.get_output_embeddings()
    if bias:  # an untied head with a bias, as some architectures have
        model.lm_head = torch.nn.Linear(head.in_features, head.out_features, bias=True)
        torch.nn.init.normal_(model.lm_head.bias, std=3.0)
    model.config.final_logit_softcapping = softcap
    hidden = torch.randn(10, head.in_features) * 4
    rows = torch.tensor([0, 0, 3, 9, 9, 5, 2])
    tokens = torch.tensor([1, head.out_features - 1, 17, 0, 17, 300, 5])
    with torch.no_grad():
        got = token_log_probs(model, hidden, rows, tokens, vocab_tile=vocab_tile, rows_per_pass=rows_per_pass)
        full = torch.log_softmax(head_logits(model, hidden).double(), dim=-1)[rows, tokens]
    torch.testing.assert_close(got.double(), full, atol=2e-5, rtol=0)
