"""One vocabulary: the small CNN, its training, the zoo's metadata and the traits read off code agree."""

from __future__ import annotations

import pytest

from overconf.models.cnn import ACTIVATIONS, DOWNSAMPLINGS, small_cnn
from overconf.models.vocabulary import DOWNSAMPLING, TRAINING, split
from overconf.train.config import TRAININGS
from overconf.zoo.catalogue import read_metadata
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
