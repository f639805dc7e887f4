"""label-audit: find, review and fix label errors in text-classification data.

Kept import-light on purpose: heavy dependencies (torch, Label Studio) load lazily.
"""

from labelcore import __version__

__all__ = ["__version__"]
