"""release_freed_memory: memory freed in the middle of the heap goes back to the OS."""

import numpy as np
import pytest

from finetune.memory import _malloc_trim, release_freed_memory


def test_freed_heap_memory_is_returned():
    psutil = pytest.importorskip("psutil")
    if _malloc_trim() is None:
        pytest.skip("not glibc: malloc_trim does not exist, release_freed_memory does nothing")
    process = psutil.Process()
    blocks = [np.ones(4_000) for _ in range(6_000)]  # 32 KB each (heap, not mmap): ~190 MB
    keep = blocks[::20]  # every 20th stays alive, so the freed space sits between live blocks
    del blocks
    held = process.memory_info().rss
    release_freed_memory()
    released = held - process.memory_info().rss
    assert released > 100 * 2**20, f"released only {released / 2**20:.0f} MB"
    assert all(b[0] == 1 for b in keep)
