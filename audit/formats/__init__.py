"""One owner per file format: each module here defines one file's schema, with its reader and
writer, used by every producer and consumer (docs/formats.md describes them for people).

- :mod:`audit.formats.run_folder` — the ``audit find-issues --out`` folder (issues.csv,
  pairs.csv, oof.npz, classes.csv, report.md)
- :mod:`audit.formats.summary` — its ``summary.json``
- :mod:`audit.formats.decision_log` — ``decisions.csv`` and the per-annotator logs
- :mod:`audit.formats.retrain_result` — ``retrain.json``
- :mod:`audit.formats.benchmark_result` — ``benchmark.json``
- :mod:`audit.formats.json_document` — reading any of these versioned JSON documents
- a dataset version's ``version.json`` is owned by :mod:`labelcore.data.version_file`
  (a version is a dataset: the data layer loads it)
"""
