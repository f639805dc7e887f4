"""The data-quality report: markdown with PNG figures from a find-issues dir (and a retrain dir)."""
