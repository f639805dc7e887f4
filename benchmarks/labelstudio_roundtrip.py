"""Label Studio round trip benchmark: export N review tasks, simulate annotators, import.

Starts its own local server (a migrated template data dir is built first unless --template
is given), synthesizes N flagged examples from BANKING77 texts (or reads --issues DIR, a real
`audit find-issues` output), and reports for each step the wall time, the client's peak Python
heap (tracemalloc, reset per step; tracemalloc slows pure-Python code somewhat), and the peak
RSS of the server's processes (sampled every 0.2 s from /proc).

Steps: export (our code), re-export (must add nothing), annotate K tasks through the API
(annotations.create, 4 threads: the rate a simulated annotator gets), import over N tasks with
K annotated (our code), then a fully annotated copy (N tasks with 2 annotations each, imported
in bulk as setup) and our import over it, and a re-import (must append nothing).

    python benchmarks/labelstudio_roundtrip.py --n 10000 --json runs/ls-bench.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit.labelstudio.client import connect  # noqa: E402
from audit.labelstudio.config import choice_result  # noqa: E402
from audit.labelstudio.export import export_to_labelstudio  # noqa: E402
from audit.labelstudio.importing import import_from_labelstudio  # noqa: E402
from audit.labelstudio.manifest import load_manifest  # noqa: E402
from audit.labelstudio.server import init_data_dir, start_local_server  # noqa: E402
from audit.labelstudio.tasks import read_review_source  # noqa: E402

BANKING77 = ROOT.parent / "shared" / "datasets" / "banking77" / "train.csv"
BACKENDS = ("tfidf-lr", "minilm-lr")


def synthesize_issues_dir(path: Path, n: int, *, seed: int = 0, source: Path = BANKING77) -> Path:
    """N flagged examples from BANKING77 texts (cycled past 10,003), random suggestions, 20 pairs."""
    if not source.exists():
        sys.exit(f"BANKING77 not found at {source}; pass --issues DIR instead")
    with open(source, newline="") as fh:
        data = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
    classes = sorted({c for _, c in data})
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    (path / "summary.json").write_text(json.dumps({
        "data": str(source), "split": "train", "data_fingerprint": f"synthetic-{n}-{seed}", "n_examples": n,
        "classes": classes, "backends": [{"name": b} for b in BACKENDS], "n_label_issues": n, "folds": 5,
        "seed": seed}))
    with open(path / "issues.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["row", "example_id", "split", "text", "given_label", "suggested_label", "label_quality",
                      "is_label_issue", "n_models_disagree", "n_models", *(f"pred__{b}" for b in BACKENDS)])
        for i in range(n):
            text, given = data[i % len(data)]
            suggested = rng.choice([c for c in classes if c != given])
            out.writerow([i, f"b77-{i:06d}", "train", text, given, suggested, round(rng.random() * 0.3, 4), True,
                          2, 2, suggested, rng.choice([given, suggested])])
    with open(path / "pairs.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["label_a", "label_b", "n_a_as_b", "n_b_as_a", "confusion_rate"])
        for _ in range(20):
            a, b = sorted(rng.sample(classes, 2), key=classes.index)
            out.writerow([a, b, rng.randint(1, 30), rng.randint(1, 30), round(rng.random() * 0.5, 3)])
    return path


class ServerRss:
    """Peak resident memory of a process group, sampled in a thread."""

    def __init__(self, pgid: int) -> None:
        self.pgid, self.peak, self._stop = pgid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> int:
        total = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[2]) != self.pgid:
                    continue
                status = Path(f"/proc/{pid}/status").read_text()
                total += int(next(l for l in status.splitlines() if l.startswith("VmRSS")).split()[1]) * 1024
            except (OSError, StopIteration, ValueError, IndexError):
                continue
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.current())

    def __enter__(self):
        self.peak = self.current()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def measure(name, fn, server, rows):
    tracemalloc.reset_peak()
    with ServerRss(server.process.pid) as rss:
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    rows.append({"step": name, "seconds": round(seconds, 2), "client_peak_mib": round(peak / 2**20, 1),
                 "server_peak_rss_mib": round(rss.peak / 2**20, 1)})
    print(f"{name:<44} {seconds:8.2f} s  client {peak / 2**20:7.1f} MiB  server {rss.peak / 2**20:7.1f} MiB",
          flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="flagged examples to synthesize (default 10000)")
    parser.add_argument("--issues", type=Path, help="a real find-issues output dir instead of synthetic data")
    parser.add_argument("--annotate", type=int, default=300, help="tasks annotated one by one via the API")
    parser.add_argument("--template", type=Path, help="a migrated data dir to copy (else built, ~1 min)")
    parser.add_argument("--workdir", type=Path, help="where to put data (default: a temporary dir)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="ls-bench-"))
    template = args.template or work / "template"
    if not (template / "label_studio.sqlite3").exists():
        print("building a migrated template data dir ...", flush=True)
        init_data_dir(template)
    issues = args.issues or synthesize_issues_dir(work / "issues", args.n)
    if args.issues is not None:  # keep the user's dir clean: manifest and logs go to the work dir
        manifest_path = work / "labelstudio.json"
    else:
        manifest_path = issues / "labelstudio.json"
    rows: list[dict] = []
    tracemalloc.start()
    with start_local_server(work / "server-data", template=template) as server:
        key = dict(url=server.url, api_key=server.token)
        client = connect(**key).client
        export = measure("export (our code)", lambda: export_to_labelstudio(
            issues, manifest_path=manifest_path, **key), server, rows)
        n_tasks = export.projects[0].n_created
        again = measure("re-export (adds nothing)", lambda: export_to_labelstudio(
            issues, manifest_path=manifest_path, **key), server, rows)
        assert all(p.n_created == 0 for p in again.projects), again

        manifest = load_manifest(manifest_path)
        ids = list(manifest.projects["issues"].tasks.values())[: args.annotate]
        result = [choice_result("decision", "text", "drop")]
        def annotate():
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda tid: client.annotations.create(id=tid, result=result), ids))
        measure(f"annotate {len(ids)} tasks via API (4 threads)", annotate, server, rows)
        out = work / "decisions.csv"
        imported = measure(f"import {n_tasks} tasks, {len(ids)} annotated (our code)", lambda: import_from_labelstudio(
            out, manifest_path=manifest_path, **key), server, rows)
        assert len(imported.decisions) == len(ids), len(imported.decisions)

        # A fully annotated copy: the same tasks with two annotators each, imported in bulk.
        other = client.users.create(email="bench2@example.com", username="bench2").id
        me = client.users.whoami().id
        src = read_review_source(issues)
        project = client.projects.create(title="bench fully annotated", label_config=client.projects.get(
            id=manifest.projects["issues"].id).label_config)
        from audit.labelstudio.config import build_issue_config, load_interface
        from audit.labelstudio.tasks import build_issue_tasks

        def annotated_tasks():
            tasks = build_issue_tasks(src, load_interface(build_issue_config(src.classes)))
            for i, task in enumerate(tasks):
                second = "drop" if i % 10 else "keep"  # 10% disagree -> ties
                task["annotations"] = [
                    {"result": [choice_result("decision", "text", "drop")], "completed_by": me},
                    {"result": [choice_result("decision", "text", second)], "completed_by": other}]
            for start in range(0, len(tasks), 2000):
                client.projects.import_tasks(id=project.id, request=tasks[start:start + 2000])
        measure("setup: bulk import 2 annotations per task", annotated_tasks, server, rows)
        out2 = work / "decisions-full.csv"
        full = measure(f"import {n_tasks} tasks x 2 annotations (our code)", lambda: import_from_labelstudio(
            out2, project_ids=[project.id], **key), server, rows)
        again = measure("re-import (appends nothing)", lambda: import_from_labelstudio(
            out2, project_ids=[project.id], **key), server, rows)
        assert again.n_appended == 0 and full.n_appended == len(full.decisions)
        print(f"fully annotated: {len(full.decisions)} decisions, {len(full.conflicts)} ties", flush=True)
    rusage_mib = __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss / 1024
    summary = {"n_tasks": n_tasks, "annotated_via_api": len(ids), "steps": rows,
               "client_max_rss_mib_whole_run": round(rusage_mib, 1)}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
