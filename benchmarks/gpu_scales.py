"""The three scales of the story on a GPU, from random-init models built from the published
configs (no hub needed): Gemma 3 270M full fine-tune, Qwen2.5-1.5B LoRA, Qwen2.5-7B QLoRA.
Reports seconds per step, tokens per second, the model's memory footprint and peak GPU memory
for each (backend, head). Weights are random: the numbers are about cost, not accuracy.

    python benchmarks/gpu_scales.py                  # on a CUDA machine
    python benchmarks/gpu_scales.py --tiny           # CPU smoke run: same code, tiny shapes

The 7B model is built in bf16 on the host (~15 GB RAM) and written to a temporary directory
(~15 GB disk) so it can be reloaded in 4-bit NF4, as a real QLoRA run would load it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: Published configs (google/gemma-3-270m, Qwen/Qwen2.5-1.5B, Qwen/Qwen2.5-7B), as dicts.
GEMMA3_270M = dict(
    model_type="gemma3_text", vocab_size=262144, hidden_size=640, intermediate_size=2048,
    num_hidden_layers=18, num_attention_heads=4, num_key_value_heads=1, head_dim=256,
    max_position_embeddings=32768, sliding_window=512, query_pre_attn_scalar=256,
    hidden_activation="gelu_pytorch_tanh", rms_norm_eps=1e-6, tie_word_embeddings=True,
    layer_types=(["sliding_attention"] * 5 + ["full_attention"]) * 3,
    rope_parameters={
        "full_attention": {"rope_type": "default", "rope_theta": 1_000_000.0},
        "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
    },
)
QWEN25_1_5B = dict(
    model_type="qwen2", vocab_size=151936, hidden_size=1536, intermediate_size=8960,
    num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
    max_position_embeddings=131072, rms_norm_eps=1e-6, tie_word_embeddings=True,
    rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
)
QWEN25_7B = dict(
    model_type="qwen2", vocab_size=152064, hidden_size=3584, intermediate_size=18944,
    num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
    max_position_embeddings=131072, rms_norm_eps=1e-6, tie_word_embeddings=False,
    rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
)
SCALES = [  # (name, config, backend)
    ("gemma3-270m", GEMMA3_270M, "full"),
    ("qwen2.5-1.5b", QWEN25_1_5B, "lora"),
    ("qwen2.5-7b", QWEN25_7B, "qlora"),
]
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, vocab_size=512, query_pre_attn_scalar=16, sliding_window=16)


def build_random_model(config: dict, out: Path, *, tiny: bool) -> str:
    """Random-init weights of ``config`` plus the locally trained tiny tokenizer, saved to ``out``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from finetune.backends.lm.tiny import SPECIAL, build_tokenizer

    values = dict(config)
    if tiny:
        values.update({k: v for k, v in TINY.items() if k in values or k in ("head_dim",)})
        if "layer_types" in values:
            values["layer_types"] = values["layer_types"][: values["num_hidden_layers"]]
    tokenizer = build_tokenizer()  # ids < 512 fit every vocabulary
    ids = {f"{k}_token_id": tokenizer.convert_tokens_to_ids(v) for k, v in SPECIAL.items() if k != "unk"}
    cfg = AutoConfig.for_model(values.pop("model_type"), **values, **ids)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32 if tiny else torch.bfloat16)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    del model
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny shapes: a CPU smoke run of the same code")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--only", default="", help="comma-separated scale names")
    args = parser.parse_args()

    import torch
    import transformers

    from _lm_common import banking77
    from train_step import measure_steps

    transformers.logging.set_verbosity_error()
    if not args.tiny and not torch.cuda.is_available():
        sys.exit("no CUDA device: these figures are GPU figures (use --tiny for a CPU smoke run)")
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    texts, labels, _ = banking77(args.batch_size * (args.steps + 1), split="train")
    print(f"{device}; {'TINY shapes (smoke run)' if args.tiny else 'published shapes'}, random init; "
          f"batch {args.batch_size}, median of {args.steps} steps after 1 warm-up")
    print("| scale | backend | head | device | precision | s/step | tokens/s | model footprint GB | peak GB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, config, backend in SCALES:
        if args.only and name not in args.only.split(","):
            continue
        with tempfile.TemporaryDirectory(prefix=f"gpu-scales-{name}-") as tmp:
            model_dir = build_random_model(config, Path(tmp), tiny=args.tiny)
            for head in ("generative", "classifier"):
                r = measure_steps(model_dir, backend, head, False, texts, labels, args.steps, args.batch_size,
                                  extra=",gradient_checkpointing=true" if backend == "qlora" else "")
                print(f"| {name} | {backend} | {head} | {r['device']} | {r['precision']} | {r['s_per_step']:.3f} | "
                      f"{r['tokens_per_s']:.0f} | {r['footprint_gb']:.2f} | {r['peak_gb']:.2f} ({r['peak_kind']}) |",
                      flush=True)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
