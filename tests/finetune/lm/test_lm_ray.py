"""A tiny LM backend out-of-fold on a local Ray instance gives the local executor's predictions
(within float tolerance: a Ray worker runs torch with one thread, as these tests do locally)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ray", reason="the Ray executor needs ray (pip install 'label-audit[ray]')")


@pytest.mark.slow
def test_tiny_lora_out_of_fold_on_ray_equals_local(tiny_models, toy_data):
    from labelcore.data.schema import TextDataset
    from finetune.backends import parse_backend_spec
    from finetune.executors import LocalExecutor, RayExecutor
    from finetune.oof import cross_val_predict_proba

    texts, names = toy_data
    classes = tuple(sorted(set(names)))
    labels = np.array([classes.index(n) for n in names])
    ds = TextDataset(texts, labels, classes, [str(i) for i in range(len(texts))], np.arange(len(texts)), "toy")
    config = parse_backend_spec(
        f"lora:{tiny_models['qwen2']},head=classifier,max_steps=4,batch_size=8,progress=false,threads=1,device=cpu"
    )
    local = cross_val_predict_proba(config, ds, n_folds=2, executor=LocalExecutor(1))
    with RayExecutor(num_cpus=2) as executor:
        remote = cross_val_predict_proba(config, ds, n_folds=2, executor=executor)
    np.testing.assert_allclose(remote.pred_probs, local.pred_probs, atol=1e-5, rtol=0)
    assert remote.n_parameters == local.n_parameters > 0
