"""Spec parsing, presets and validation of the full / lora / qlora configs (no torch needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from labelcore.errors import ConfigError
from finetune.backends.lm.presets import available_presets
from finetune.backends.registry import available_backends, parse_backend_spec


def test_the_three_backends_are_registered():
    assert {"full", "lora", "qlora"} <= set(available_backends())


def test_spec_fills_the_model_positionally_and_coerces_types():
    cfg = parse_backend_spec("full:path/to/model,head=classifier,epochs=1,gradient_checkpointing=true")
    assert (cfg.model, cfg.head, cfg.epochs, cfg.gradient_checkpointing) == ("path/to/model", "classifier", 1.0, True)
    lora = parse_backend_spec("lora:m,target_modules=q_proj+v_proj,lora_r=4")
    assert lora.target_modules == ("q_proj", "v_proj") and lora.lora_r == 4


@pytest.mark.parametrize("name", sorted(available_presets()))
def test_every_shipped_preset_parses_for_its_backend(name):
    backend = name.rsplit("-", 1)[1]
    cfg = parse_backend_spec(f"{backend}:preset={name}")
    assert cfg.backend == backend and cfg.preset == name and cfg.model


def test_gemma_preset_reproduces_the_story_run_and_items_override_it():
    cfg = parse_backend_spec("full:preset=gemma3-270m-full")
    assert (cfg.lr, cfg.scheduler, cfg.epochs, cfg.batch_size) == (5e-5, "cosine", 3.0, 16)
    over = parse_backend_spec("full:local/dir/model,preset=gemma3-270m-full,epochs=1")
    assert (over.model, over.epochs, over.lr) == ("local/dir/model", 1.0, 5e-5)
    qlora = parse_backend_spec("qlora:preset=qwen2.5-7b-qlora")
    assert qlora.lora_r == 16 and qlora.target_modules == ("all-linear",) and "7B" in qlora.model


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("lora:preset=gemma3-270m-full", "is for backend 'full'"),
        ("full:preset=no-such-preset", "unknown preset"),
        ("full:m,head=regression", "head="),
        ("full:m,prompt=no placeholder", "{text}"),
        ("full", "give a model"),
        ("full:m,batch_size=0", "batch_size"),
        ("full:m,no_such_option=1", "no option"),
        ("qlora:m,compute_dtype=int3", "compute_dtype"),
    ],
)
def test_invalid_specs_raise_config_errors(spec, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("{", r"\{").replace("}", r"\}")):
        parse_backend_spec(spec)


def test_runtime_fields_do_not_change_the_fingerprint():
    a = parse_backend_spec("lora:m,threads=1,output_dir=/tmp/a,eval_batch_size=4")
    b = parse_backend_spec("lora:m,threads=2,output_dir=/tmp/b")
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != parse_backend_spec("lora:m,lora_r=8").fingerprint()


def test_parsing_a_spec_does_not_import_torch():
    code = (
        "import sys; from finetune.backends.registry import parse_backend_spec; "
        "parse_backend_spec('qlora:preset=qwen2.5-7b-qlora'); print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
