"""label-audit: find, review and fix label errors in text-classification data.

Kept import-light on purpose: heavy dependencies (torch, Label Studio) load lazily.
"""

__version__ = "0.1.0"
