"""A real headless browser for report tests: Chromium's own --dump-dom and --screenshot, no
driver. A script injected into a copy of the page measures the layout after load and writes
it into the DOM, which --dump-dom returns."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

MEASURE_JS = """
window.addEventListener('load', () => {
  const tables = [...document.querySelectorAll('table')].map(t => {
    const r = t.getBoundingClientRect();
    const heads = [...t.querySelectorAll('thead th')].map(th => [th.textContent.trim(), th.getBoundingClientRect().width]);
    return {left: r.left, right: r.right, width: r.width, heads: heads};
  });
  const images = [...document.images].map(i => ({src: i.getAttribute('src'), complete: i.complete,
                                                 naturalWidth: i.naturalWidth, right: i.getBoundingClientRect().right}));
  const out = document.createElement('pre');
  out.id = 'label-audit-measure';
  out.textContent = JSON.stringify({viewport: document.documentElement.clientWidth,
                                    document_width: document.documentElement.scrollWidth, tables, images});
  document.body.appendChild(out);
});
"""
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    explicit = os.environ.get("LABEL_AUDIT_BROWSER")
    if explicit:
        return explicit
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def _run(browser: str, *args: str, timeout: float = 120) -> str:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True).stdout


def measure(browser: str, page: Path, *, width: int = 1400, height: int = 2000) -> dict:
    """Layout of ``page`` at ``width`` px: tables (left, right, width, header widths), images
    (naturalWidth: 0 when a figure did not load) and the document's scroll width."""
    probe = page.with_name(page.stem + ".measure.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", f"<script>{MEASURE_JS}</script></body>"),
                     encoding="utf-8")
    try:
        dom = _run(browser, f"--window-size={width},{height}", "--virtual-time-budget=10000", "--dump-dom",
                   probe.resolve().as_uri())
    finally:
        probe.unlink()
    found = re.search(r'<pre id="label-audit-measure">(.*?)</pre>', dom, flags=re.S)
    if not found:
        raise AssertionError("the measuring script did not run: " + dom[:500])
    import html

    return json.loads(html.unescape(found.group(1)))


def screenshot(browser: str, page: Path, out: Path, *, width: int = 1400, height: int = 2400) -> Path:
    _run(browser, f"--window-size={width},{height}", "--virtual-time-budget=10000", f"--screenshot={out}",
         page.resolve().as_uri())
    return out
