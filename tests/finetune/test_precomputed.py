"""The ``precomputed`` backend: out-of-fold predictions made elsewhere enter the audit like a
trained backend; every bad file gives its own DataError and nothing is written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from audit.cli.app import app
from audit.pipeline import find_issues
from finetune.backends import parse_backend_spec
from finetune.backends.precomputed import load_given_pred_probs
from labelcore.errors import ConfigError, DataError

runner = CliRunner()
OPTIONS = dict(n_folds=3, seed=0, rounds=1, detectors=["label_issues"])


@pytest.fixture(scope="module")
def trained(demo):
    """tfidf-lr out-of-fold on the demo, one round."""
    return find_issues(demo.train, [parse_backend_spec("tfidf-lr")], **OPTIONS)


def _table(ids, classes, probs, *, seed=0) -> pd.DataFrame:
    """example_id + one column per class, rows and class columns shuffled."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(probs, columns=list(classes))
    frame.insert(0, "example_id", list(ids))
    frame = frame.iloc[rng.permutation(len(frame))]
    return frame[["example_id", *rng.permutation(list(classes))]]


def test_parquet_in_shuffled_order_gives_the_trained_flags_and_scores(demo, trained, tmp_path):
    ds = demo.train
    path = tmp_path / "oof.parquet"
    _table(ds.example_ids, ds.classes, trained.pred_probs["tfidf-lr"]).to_parquet(path, index=False)
    given = find_issues(ds, [parse_backend_spec(f"precomputed:path={path},params=1234,name=elsewhere")], **OPTIONS)
    np.testing.assert_allclose(given.pred_probs["elsewhere"], trained.pred_probs["tfidf-lr"], atol=1e-12)
    a = trained.issues.set_index("example_id").sort_index()
    b = given.issues.set_index("example_id").sort_index()
    assert a["is_label_issue"].sum() > 0
    assert (a["is_label_issue"] == b["is_label_issue"]).all()
    np.testing.assert_allclose(a["label_quality"], b["label_quality"], atol=1e-9)
    assert (a["suggested_label"] == b["suggested_label"]).all()
    (entry,) = given.summary.backends
    assert entry.name == "elsewhere" and entry.n_parameters == 1234 and entry.given
    assert "pred__elsewhere" in given.issues.columns


def test_round_two_keeps_given_predictions_as_they_are(demo, trained, tmp_path):
    ds = demo.train
    path = tmp_path / "oof.csv"
    _table(ds.example_ids, ds.classes, trained.pred_probs["tfidf-lr"]).to_csv(path, index=False)
    result = find_issues(ds, [parse_backend_spec(f"precomputed:{path}")], **{**OPTIONS, "rounds": 2})
    np.testing.assert_allclose(result.pred_probs["precomputed"], result.first_round_pred_probs["precomputed"])
    np.testing.assert_allclose(result.pred_probs["precomputed"], trained.pred_probs["tfidf-lr"], atol=1e-12)


def test_an_earlier_runs_oof_npz_and_picking_a_model(demo, trained, tmp_path):
    from audit.formats.run_folder import write_run_folder

    ds = demo.train
    write_run_folder(trained, tmp_path / "run")
    one = load_given_pred_probs(tmp_path / "run" / "oof.npz", ds.example_ids, ds.classes)
    np.testing.assert_allclose(one, trained.pred_probs["tfidf-lr"], atol=1e-6)  # stored as float32

    two = tmp_path / "two.npz"
    order = np.random.default_rng(1).permutation(len(ds))
    other = np.full((len(ds), len(ds.classes)), 1 / len(ds.classes))
    np.savez(two, example_ids=np.asarray(ds.example_ids)[order], classes=np.asarray(ds.classes),
             **{"pred_probs__tfidf-lr": trained.pred_probs["tfidf-lr"][order], "pred_probs__flat": other[order]})
    with pytest.raises(DataError, match=r"2 models \(flat, tfidf-lr\); pick one with model=NAME"):
        load_given_pred_probs(two, ds.example_ids, ds.classes)
    picked = load_given_pred_probs(two, ds.example_ids, ds.classes, model="tfidf-lr")
    np.testing.assert_allclose(picked, trained.pred_probs["tfidf-lr"], atol=1e-12)
    with pytest.raises(DataError, match="no model 'gemma' in it; it holds flat, tfidf-lr"):
        load_given_pred_probs(two, ds.example_ids, ds.classes, model="gemma")


def _good(demo) -> pd.DataFrame:
    ds = demo.train
    probs = np.random.default_rng(0).dirichlet(np.ones(len(ds.classes)), size=len(ds))
    return _table(ds.example_ids, ds.classes, probs)


def _drop_rows(f):
    return f.iloc[2:]


def _unknown_id(f):
    extra = f.iloc[:1].copy()
    extra["example_id"] = "not-a-row"
    return pd.concat([f, extra])


def _duplicate_id(f):
    return pd.concat([f, f.iloc[:1]])


def _missing_class(f):
    return f.drop(columns=[f.columns[1]])


def _extra_column(f):
    return f.assign(notes="x")


def _not_summing(f):
    f = f.copy()
    f.iloc[5, 1:] = f.iloc[5, 1:].to_numpy(float) * 3
    return f


def _nan(f):
    f = f.copy()
    f.iloc[3, 2] = np.nan
    return f


def _negative(f):
    f = f.copy()
    f.iloc[4, 1], f.iloc[4, 2] = -0.1, f.iloc[4, 2] + f.iloc[4, 1] + 0.1
    return f


def _text_values(f):
    return f.assign(**{f.columns[1]: "high"})


def _no_id_column(f):
    return f.drop(columns=["example_id"])


BAD = {
    "ids missing": (_drop_rows, "no predictions for 2 of the dataset's 720 examples"),
    "ids unknown": (_unknown_id, r"1 example_id\(s\) are not in the dataset \('not-a-row'\)"),
    "ids duplicated": (_duplicate_id, r"1 duplicated example_id\(s\)"),
    "a class column missing": (_missing_class, r"no column for 1 of the dataset's classes"),
    "a column that is no class": (_extra_column, r"1 column\(s\) that are not the dataset's classes \('notes'\)"),
    "rows not summing to 1": (_not_summing, r"1 row\(s\) do not sum to 1 \(tolerance 0.001\)"),
    "NaN": (_nan, r"1 row\(s\) hold NaN"),
    "negative": (_negative, r"1 row\(s\) hold negative probabilities"),
    "no example_id column": (_no_id_column, "no 'example_id' column"),
    "text in a class column": (_text_values, r"class column\(s\) that do not hold numbers"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_each_bad_file_gives_its_error_and_writes_nothing(demo, tmp_path, case, fmt):
    mutate, message = BAD[case]
    path = tmp_path / f"given.{fmt}"
    frame = mutate(_good(demo))
    frame.to_parquet(path, index=False) if fmt == "parquet" else frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=message):
        load_given_pred_probs(path, demo.train.example_ids, demo.train.classes)
    # through the CLI: exit code 65, the message, no output, and no fold trained (checked first)
    out, cache = tmp_path / "run", tmp_path / "cache"
    result = runner.invoke(app, ["find-issues", "--data", "demo", "-b", "tfidf-lr", "-b", f"precomputed:path={path}",
                                 "--out", str(out), "--cache-dir", str(cache), "--jobs", "1"])
    assert result.exit_code == 65, result.output
    assert "Data error" in result.output and str(path) in result.output.replace("\n", "")
    assert not out.exists()
    assert not list(cache.rglob("*.npz"))


def test_good_file_is_accepted_and_bad_specs_are_config_errors(demo, tmp_path):
    path = tmp_path / "given.csv"
    _good(demo).to_csv(path, index=False)
    probs = load_given_pred_probs(path, demo.train.example_ids, demo.train.classes)
    assert probs.shape == (len(demo.train), len(demo.classes)) and np.allclose(probs.sum(1), 1)
    with pytest.raises(DataError, match="no such file"):
        load_given_pred_probs(tmp_path / "absent.csv", demo.train.example_ids, demo.train.classes)
    with pytest.raises(ConfigError, match="not a .parquet, .csv or .npz"):
        parse_backend_spec(f"precomputed:path={tmp_path / 'p.json'}")
    with pytest.raises(ConfigError, match="model= picks an array of an oof.npz"):
        parse_backend_spec(f"precomputed:path={path},model=x")
    with pytest.raises(ConfigError, match="name 'a b'"):
        parse_backend_spec(f"precomputed:path={path},name=a b")
    # the file's content is part of the fingerprint: a changed file is another model
    before = parse_backend_spec(f"precomputed:path={path}").fingerprint()
    path.write_text(path.read_text() + "\n")
    assert parse_backend_spec(f"precomputed:path={path}").fingerprint() != before


def test_retraining_precomputed_predictions_is_a_clear_error(demo, tmp_path):
    from audit.retrain import retrain_compare
    from labelcore.errors import ModelError

    path = tmp_path / "given.csv"
    _good(demo).to_csv(path, index=False)
    with pytest.raises(ModelError, match="cannot be trained"):
        retrain_compare(demo, demo, backends=[f"precomputed:path={path}"], seeds=1)


def test_given_test_predictions_and_time_enter_the_scales_table(demo, trained, tmp_path):
    from finetune.backends import make_backend

    ds, test = demo.train, demo.test
    model = make_backend(parse_backend_spec("tfidf-lr", seed=0)).fit(ds.texts, ds.label_names)
    probs = model.predict_proba(test.texts)
    oof_path, test_path = tmp_path / "oof.parquet", tmp_path / "test.csv"
    _table(ds.example_ids, ds.classes, trained.pred_probs["tfidf-lr"]).to_parquet(oof_path, index=False)
    _table(test.example_ids, model.classes_, probs, seed=1).to_csv(test_path, index=False)
    spec = f"precomputed:path={oof_path},test={test_path},seconds=1234.5,name=elsewhere"
    result = find_issues(ds, [parse_backend_spec(spec)], test=test, fit_final=True, **OPTIONS)
    (entry,) = result.summary.backends
    expected = np.mean(np.asarray(model.classes_)[probs.argmax(1)] == np.asarray(test.label_names))
    assert entry.test_accuracy == pytest.approx(expected) and entry.n_test == len(test)
    assert entry.seconds == pytest.approx(1234.5)
    bad = tmp_path / "bad.csv"
    _table(test.example_ids[1:], model.classes_, probs[1:]).to_csv(bad, index=False)   # one test id missing
    with pytest.raises(DataError, match="bad.csv"):
        find_issues(ds, [parse_backend_spec(f"precomputed:path={oof_path},test={bad}")], test=test, fit_final=True,
                    **OPTIONS)
    for wrong in (f"precomputed:path={oof_path},test=preds.txt", f"precomputed:path={oof_path},seconds=-1"):
        with pytest.raises(ConfigError):
            parse_backend_spec(wrong)


def test_the_predictions_file_written_by_its_owner_is_read_back(tmp_path):
    """``write_pred_probs_npz`` (the oof.npz format's one writer) -> ``precomputed:`` reads it."""
    from audit.formats.run_folder import write_pred_probs_npz
    from finetune.backends import make_backend

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=6)
    ids, classes = [f"r{i}" for i in range(6)], ["a", "b", "c"]
    path = write_pred_probs_npz(tmp_path / "lm.oof.npz", example_ids=ids, classes=classes, pred_probs={"lm": probs})
    backend = make_backend(f"precomputed:path={path}")
    order = [4, 1, 0, 5, 3, 2]  # any row order, as the backend promises
    got = backend.given_oof_pred_probs([ids[i] for i in order], classes)
    np.testing.assert_allclose(got, probs[order], atol=1e-6)


def test_predictions_made_for_other_labels_are_refused(demo, trained, tmp_path):
    """A file that records the labels its model was trained with (a table's ``label`` column, an
    oof.npz's ``labels``) is used only with those labels: not on another version, not on other
    planted noise."""
    from audit.formats.run_folder import write_pred_probs_npz

    ds = demo.train
    probs = trained.pred_probs["tfidf-lr"]
    frame = _table(ds.example_ids, ds.classes, probs)
    by_id = dict(zip(ds.example_ids, ds.label_names))
    frame.insert(1, "label", [by_id[i] for i in frame["example_id"]])
    table = tmp_path / "given.csv"
    frame.to_csv(table, index=False)
    np.testing.assert_allclose(load_given_pred_probs(table, ds.example_ids, ds.classes, labels=ds.label_names),
                               probs, atol=1e-6)
    other = np.array(ds.label_names, dtype=object)
    other[7] = next(c for c in ds.classes if c != other[7])
    with pytest.raises(DataError, match=rf"made for other labels: 1 of the {len(ds)} rows .*{ds.example_ids[7]}"):
        load_given_pred_probs(table, ds.example_ids, ds.classes, labels=other)

    frame.loc[frame.index[:2], "label"] = None  # a label column with holes
    frame.to_csv(table, index=False)
    with pytest.raises(DataError, match=r"2 row\(s\) have an empty 'label'"):
        load_given_pred_probs(table, ds.example_ids, ds.classes, labels=ds.label_names)

    codes = np.array(ds.labels).copy()
    codes[3] = (codes[3] + 1) % len(ds.classes)
    npz = write_pred_probs_npz(tmp_path / "lm.oof.npz", example_ids=ds.example_ids, classes=ds.classes,
                               pred_probs={"lm": probs}, labels=codes)
    out = tmp_path / "run"
    result = runner.invoke(app, ["find-issues", "--data", "demo", "-b", f"precomputed:path={npz}", "--out", str(out),
                                 "--jobs", "1", "--rounds", "1", "--no-final"])
    assert result.exit_code == 65 and "made for other labels: 1 of" in result.output.replace("\n", " ")
    assert not out.exists()
    same = write_pred_probs_npz(tmp_path / "same.oof.npz", example_ids=ds.example_ids, classes=ds.classes,
                                pred_probs={"lm": probs}, labels=ds.labels)
    np.testing.assert_allclose(load_given_pred_probs(same, ds.example_ids, ds.classes, labels=ds.label_names),
                               probs, atol=1e-6)
