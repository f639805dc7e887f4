"""Tiny random causal LMs of real architectures, with a tokenizer trained locally.

For pipeline smoke tests without downloads: ``build_tiny_model(out, arch="gemma3")`` writes a
directory that ``AutoTokenizer`` / ``AutoModelForCausalLM`` / ``AutoModelForSequenceClassification``
``.from_pretrained(out)`` load in well under a second.
"""

from __future__ import annotations

from pathlib import Path

from labelcore.errors import ConfigError

ARCHS = ("gemma3", "qwen2", "llama")

#: A small built-in corpus: banking-style requests plus everyday English, enough for a BPE.
CORPUS = (
    "I am still waiting on my card to arrive.",
    "How long does it take for a new card to be delivered?",
    "My card payment was declined at the shop.",
    "Why was I charged an extra fee for this transfer?",
    "The exchange rate I got for my top up looks wrong.",
    "Can I change my PIN at a cash machine?",
    "I lost my card yesterday and need to freeze it.",
    "How do I verify my identity for the account?",
    "The ATM kept my card and did not give it back.",
    "I was charged twice for the same purchase.",
    "My transfer has not arrived in the other account yet.",
    "What currencies can I hold and exchange in the app?",
    "Please cancel the transaction I made this morning.",
    "Is there a limit on how much cash I can withdraw?",
    "The weather is nice today, so let us go for a walk in the park.",
    "She reads a book every evening before going to sleep.",
    "Set an alarm for seven in the morning and remind me to call mum.",
    "What is the capital of France and how many people live there?",
    "Play some relaxing music and turn the lights down.",
    "Translate thank you very much into Spanish, please.",
    "card_arrival card_linking cash_withdrawal exchange_rate lost_or_stolen_card",
    "pin_blocked top_up_failed transfer_timing balance_not_updated declined_payment",
    "Text: Label: positive negative neutral question answer yes no",
    "0 1 2 3 4 5 6 7 8 9 10 100 1000 £ $ € % & @ # ? ! , . ; : ' \" ( ) - _ /",
)

SPECIAL = {"bos": "<bos>", "eos": "<eos>", "pad": "<pad>", "unk": "<unk>"}


def build_tokenizer(*, vocab_size: int = 512):
    """A byte-level BPE tokenizer trained on :data:`CORPUS` (wrapped as a fast HF tokenizer)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=SPECIAL["unk"]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(CORPUS) * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=SPECIAL["bos"],
        eos_token=SPECIAL["eos"],
        pad_token=SPECIAL["pad"],
        unk_token=SPECIAL["unk"],
    )


def tiny_config(arch: str, *, vocab_size: int, hidden: int = 64, layers: int = 2, heads: int = 4, **ids):
    """A transformers config of ``arch`` with ``hidden`` size and ``layers`` layers."""
    import transformers

    common = dict(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=512,
        tie_word_embeddings=True,
        **ids,
    )
    if arch == "gemma3":
        return transformers.Gemma3TextConfig(
            **common, head_dim=hidden // heads, sliding_window=16, query_pre_attn_scalar=hidden // heads
        )
    if arch == "qwen2":
        return transformers.Qwen2Config(**common)
    if arch == "llama":
        return transformers.LlamaConfig(**common)
    raise ConfigError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")


def build_tiny_model(out: str | Path, *, arch: str = "gemma3", hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """Write a tiny random causal LM of ``arch`` and its tokenizer to ``out``; return ``out``."""
    import torch
    from transformers import AutoModelForCausalLM

    if arch not in ARCHS:
        raise ConfigError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    out = Path(out)
    tokenizer = build_tokenizer()
    ids = {f"{k}_token_id": tokenizer.convert_tokens_to_ids(v) for k, v in SPECIAL.items() if k != "unk"}
    config = tiny_config(arch, vocab_size=len(tokenizer), hidden=hidden, layers=layers, **ids)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
