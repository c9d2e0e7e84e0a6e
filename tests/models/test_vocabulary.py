"""One vocabulary: the small CNN, its training, the zoo's metadata and the traits read off code agree."""

from __future__ import annotations

import pytest

from overconf.errors import ConfigError
from overconf.models.cnn import ACTIVATIONS, DOWNSAMPLINGS, small_cnn
from overconf.models.vocabulary import DOWNSAMPLING, TRAINING, split
from overconf.train.config import TRAININGS
from overconf.zoo.catalogue import read_metadata, read_pairs_file
from overconf.zoo.traits import architecture_traits


def test_what_we_build_and_train_is_named_in_the_vocabulary():
    assert set(DOWNSAMPLINGS) <= set(DOWNSAMPLING)
    assert set(TRAININGS) <= set(TRAINING)


@pytest.mark.parametrize("activation", ACTIVATIONS.names())
@pytest.mark.parametrize("downsampling", DOWNSAMPLINGS)
def test_traits_of_the_small_cnn_are_its_own_names(activation: str, downsampling: str):
    derived = architecture_traits(lambda: small_cnn(activation, downsampling, in_channels=3, image_size=32))
    assert derived == {"activation": activation, "downsampling": downsampling}


def test_zoo_metadata_uses_the_vocabulary():
    rows = read_metadata().values()
    assert {d for row in rows for d in split(row["downsampling"])} <= set(DOWNSAMPLING)
    assert {row["training"] for row in rows} <= set(TRAINING)
    assert {row["activation"] for row in rows} <= set(ACTIVATIONS.names()) | {"relu"}


def test_user_pairs_must_use_the_vocabulary(tmp_path):
    path = tmp_path / "mine.toml"
    row = '[[pair]]\ndataset = "cifar10"\nrobust_id = "R"\nnormal_id = "N"\narchitecture = "A"\n'
    path.write_text(row + 'robust = { entry_point = "m:f", training = "pgd", downsampling = "maxpool+strided" }\n')
    (pair,) = read_pairs_file(path)
    assert pair.robust.meta == {"training": "pgd", "downsampling": "maxpool+strided"}
    path.write_text(row + 'robust = { entry_point = "m:f", training = "trades" }\n')
    with pytest.raises(ConfigError, match="unknown training 'trades'"):
        read_pairs_file(path)
    path.write_text(row + 'robust = { entry_point = "m:f", downsampling = "max-pool" }\n')
    with pytest.raises(ConfigError, match="did you mean `maxpool`"):
        read_pairs_file(path)
