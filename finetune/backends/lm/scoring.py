"""Exact probabilities over a fixed set of label strings from a causal LM.

For a prompt ``x`` and label token sequences ``c_k = (c_k1 .. c_km)`` (``label_prefix`` +
name, + EOS), the score of label ``k`` is its exact log-probability as a continuation::

    s_k = sum_j log p(c_kj | x, c_k1 .. c_k(j-1))      (full-vocabulary softmax at each step)

and ``predict_proba`` returns ``softmax_k(s_k)``: the model's distribution restricted to the
label set and renormalised (no length normalisation). How it is computed, cheaply but exactly:

1. the prompts run once (left-padded, explicit position ids) and keep their KV cache;
2. the label sequences become a prefix tree: each distinct prefix ("card", "card_arr"...)
   is computed once, and its continuation rows run in one batch on a copy of the cache;
3. the vocabulary head runs only at the distinct prefix positions (never at prompt tokens):
   the log-normaliser is computed there, chunk by chunk, and the needed token logits gathered.

:func:`naive_label_log_probs` is the reference (one full forward pass per prompt x label).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from finetune.backends.lm.lm_head import decoder_of, head_logits, unwrap


@dataclass(frozen=True)
class LabelTree:
    """The distinct prefixes (nodes) of the label token sequences.

    ``nodes[i]`` is a prefix tuple; ``membership (n_nodes, K)`` is 1 where node ``i`` is a
    prefix of label ``k``; ``children`` maps each node that has children to their next tokens;
    ``rows`` are the fewest token rows whose positions cover every node with children.
    """

    nodes: list[tuple[int, ...]]
    membership: np.ndarray
    children: dict[tuple[int, ...], list[int]]
    rows: list[tuple[int, ...]]

    @classmethod
    def build(cls, labels: Sequence[Sequence[int]]) -> "LabelTree":
        nodes = sorted({tuple(lab[: j + 1]) for lab in labels for j in range(len(lab))}, key=lambda n: (len(n), n))
        index = {n: i for i, n in enumerate(nodes)}
        membership = np.zeros((len(nodes), len(labels)))
        for k, lab in enumerate(labels):
            for j in range(len(lab)):
                membership[index[tuple(lab[: j + 1])], k] = 1.0
        children: dict[tuple[int, ...], list[int]] = {}
        for n in nodes[::-1]:
            if len(n) > 1:
                children.setdefault(n[:-1], []).insert(0, n[-1])
        rows = [p for p, kids in children.items() if not any(p + (t,) in children for t in kids)]
        return cls(nodes, membership, children, sorted(rows))


def label_log_probs(
    model,
    prompts: Sequence[Sequence[int]],
    labels: Sequence[Sequence[int]],
    *,
    pad_id: int,
    batch_size: int = 16,
    label_chunk: int = 256,
    vocab_chunk_rows: int | None = None,
) -> np.ndarray:
    """Exact ``log p(label_k | prompt_i)`` for every prompt and label, shape ``(N, K)``.

    ``prompts`` and ``labels`` are token-id lists (see :mod:`.prompts`). ``label_chunk`` bounds
    the continuation rows run against one copy of the prompt cache; ``vocab_chunk_rows`` the
    label positions per prompt projected onto the vocabulary at once (default: as many as
    keep one chunk of logits under 2**26 floats, 256 MB).
    """
    import torch

    tree = LabelTree.build(labels)
    device = next(model.parameters()).device
    if vocab_chunk_rows is None:
        head = unwrap(model).get_output_embeddings()
        vocab = getattr(head, "out_features", None) or unwrap(model).config.vocab_size
        vocab_chunk_rows = max(1, 2**26 // (min(batch_size, len(prompts) or 1) * vocab))
    out = np.zeros((len(prompts), len(labels)))
    membership = torch.as_tensor(tree.membership, dtype=torch.float64, device=device)
    with torch.no_grad():
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start : start + batch_size]
            node_logp = _node_log_probs(model, batch, tree, pad_id, label_chunk, vocab_chunk_rows, device)
            out[start : start + len(batch)] = (node_logp.double() @ membership).cpu().numpy()
    return out


def label_probabilities(log_probs: np.ndarray) -> np.ndarray:
    """Softmax over labels of ``(N, K)`` label log-probabilities (rows sum to 1)."""
    z = log_probs - log_probs.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _left_pad(seqs: Sequence[Sequence[int]], pad_id: int, device):
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(seqs), width), dtype=torch.long, device=device)
    for i, s in enumerate(seqs):
        ids[i, width - len(s) :] = torch.as_tensor(s, device=device)
        mask[i, width - len(s) :] = 1
    return ids, mask


def _node_log_probs(model, prompts, tree: LabelTree, pad_id, label_chunk, vocab_chunk_rows, device):
    """``(B, n_nodes)``: log p(last token of node | prompt, node[:-1]) for every tree node."""
    import torch

    decoder = decoder_of(model)
    ids, mask = _left_pad(prompts, pad_id, device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    body = decoder(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
    cache = body.past_key_values
    first = torch.log_softmax(head_logits(model, body.last_hidden_state[:, -1]).float(), dim=-1)

    B = len(prompts)
    index = {n: i for i, n in enumerate(tree.nodes)}
    node_logp = torch.zeros((B, len(tree.nodes)), dtype=torch.float32, device=device)
    roots = [i for i, n in enumerate(tree.nodes) if len(n) == 1]
    node_logp[:, roots] = first[:, [tree.nodes[i][0] for i in roots]]
    if not tree.rows:
        return node_logp

    # Hidden state of each parent node: run the continuation rows on copies of the prompt cache.
    parent_hidden = {}
    lengths = mask.sum(-1)
    for c in range(0, len(tree.rows), label_chunk):
        rows = tree.rows[c : c + label_chunk]
        R, T = len(rows), max(len(r) for r in rows)
        row_ids = torch.full((R, T), pad_id, dtype=torch.long, device=device)
        row_mask = torch.zeros((R, T), dtype=torch.long, device=device)
        for r, toks in enumerate(rows):
            row_ids[r, : len(toks)] = torch.as_tensor(toks, device=device)
            row_mask[r, : len(toks)] = 1
        chunk_cache = copy.deepcopy(cache)
        chunk_cache.batch_repeat_interleave(R)
        cont = decoder(
            input_ids=row_ids.repeat(B, 1),
            attention_mask=torch.cat([mask.repeat_interleave(R, 0), row_mask.repeat(B, 1)], dim=1),
            position_ids=lengths.repeat_interleave(R)[:, None] + torch.arange(T, device=device)[None],
            past_key_values=chunk_cache,
            use_cache=True,
        ).last_hidden_state.view(B, R, T, -1)
        for r, toks in enumerate(rows):
            for j in range(len(toks)):
                parent_hidden.setdefault(toks[: j + 1], cont[:, r, j])

    # Vocabulary head only at the parents: log-normaliser + the children's token logits.
    parents = list(tree.children)
    for c in range(0, len(parents), vocab_chunk_rows):
        chunk = parents[c : c + vocab_chunk_rows]
        hidden = torch.stack([parent_hidden[p] for p in chunk], dim=1)  # (B, P, H)
        logits = head_logits(model, hidden).float()
        lse = torch.logsumexp(logits, dim=-1)
        for p_i, parent in enumerate(chunk):
            kids = tree.children[parent]
            cols = [index[parent + (t,)] for t in kids]
            node_logp[:, cols] = logits[:, p_i, kids] - lse[:, p_i : p_i + 1]
    return node_logp


def naive_label_log_probs(model, prompts: Sequence[Sequence[int]], labels: Sequence[Sequence[int]]) -> np.ndarray:
    """Reference scoring: one unpadded forward pass with full-vocabulary logits per prompt x label."""
    import torch

    device = next(model.parameters()).device
    out = np.zeros((len(prompts), len(labels)))
    with torch.no_grad():
        for i, prompt in enumerate(prompts):
            for k, lab in enumerate(labels):
                ids = torch.as_tensor([list(prompt) + list(lab)], device=device)
                logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
                positions = range(len(prompt) - 1, len(prompt) + len(lab) - 1)
                out[i, k] = float(sum(logp[p, t] for p, t in zip(positions, lab)))
    return out
