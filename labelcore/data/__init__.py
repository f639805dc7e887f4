"""The dataset layer: load labelled text from files, definitions or the Hugging Face hub into
one shape (:class:`TextDataset`), with stable example ids and one canonical class order."""

from labelcore.data.schema import DatasetBundle, TextDataset
from labelcore.data.load import load_data

__all__ = ["DatasetBundle", "TextDataset", "load_data"]
