"""The paper's model zoo: robust/normal pairs, their files, and loaders that never run pickled code.

>>> from overconf.zoo import load_catalogue
>>> cat = load_catalogue()
>>> len(cat), len(cat.select("cifar10")), len(cat.select("cifar100")), len(cat.select("imagenet"))
(71, 49, 17, 5)
"""

from overconf.zoo.catalogue import Catalogue, Pair, ZooModel, load_catalogue, read_pairs_file
from overconf.zoo.checkpoints import find_state_dict, load_state_dict, read_checkpoint, read_lightning_tar
from overconf.zoo.fetch import Source, download, read_checksums
from overconf.zoo.loaders import load_model, missing_files, resolve_models_dir, sources

__all__ = [
    "Catalogue", "Pair", "Source", "ZooModel", "download", "find_state_dict", "load_catalogue", "load_model",
    "load_state_dict", "missing_files", "read_checkpoint", "read_checksums", "read_lightning_tar",
    "read_pairs_file", "resolve_models_dir", "sources",
]
