"""The dataset layer: load labelled text from files, definitions or the Hugging Face hub into
one shape (:class:`TextDataset`), with stable example ids and one canonical class order."""

from audit.data.schema import DatasetBundle, TextDataset
from audit.data.load import load_data

__all__ = ["DatasetBundle", "TextDataset", "load_data"]
