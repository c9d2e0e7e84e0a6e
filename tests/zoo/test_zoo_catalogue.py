"""The catalogue: the paper's pairs as shipped, user files, selection, metadata."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from overconf.errors import ConfigError
from overconf.zoo import load_catalogue, read_pairs_file
from overconf.zoo.catalogue import default_catalogue_path, read_metadata
from overconf.zoo.loaders import robustbench_entry
from overconf.zoo.traits import architecture_traits

REFERENCE = Path(__file__).parent / "data" / "robust_normal_pairs.csv"
"""The paper's 71 pairs (dataset, robust_id, normal_id, architecture): a user catalogue in the minimal CSV form."""


def test_shipped_catalogue_is_the_papers_pairs():
    cat = load_catalogue()
    counts = {d: len(cat.select(d)) for d in ("cifar10", "cifar100", "imagenet")}
    assert counts == {"cifar10": 49, "cifar100": 17, "imagenet": 5}
    with open(default_catalogue_path(), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(p.dataset, p.robust.model_id, p.normal.model_id, p.architecture) for p in cat.pairs] == [
        (r["dataset"], r["robust_id"], r["normal_id"], r["architecture"]) for r in rows
    ]
    # Shared twins: 71 robust models, fewer normal ones; each model once.
    models = cat.models()
    assert sum(m.robust for m in models) == 71
    assert len({(m.dataset, m.name) for m in models}) == len(models)
    carmon = cat.select("cifar10", ["Carmon2019Unlabeled"])
    assert {p.robust.model_id for p in carmon.pairs} >= {"Carmon2019Unlabeled", "Sehwag2020Hydra", "Zhang2020Geometry"}
    assert {p.robust.pair for p in carmon.pairs} == {"Carmon2019Unlabeled"}


def test_sources_and_metadata():
    cat = load_catalogue()
    by_source = {m.source for m in cat.models()}
    assert by_source == {"robustbench", "lightning", "timm"}
    dai = cat.select("cifar10", ["Dai2021Parameterizing"]).pairs[0]
    assert dai.robust.meta["activation"] == "pssilu" and dai.robust.meta["extra_data"] == "external"
    wong = cat.select("imagenet", ["Wong2020Fast"]).pairs[0]
    assert wong.robust.meta["preprocessing"] == "Crop288" and wong.normal.source == "timm"
    assert wong.normal.weights == "resnet50.a1_in1k"


@pytest.mark.parametrize(("dataset", "model_id"), [("cifar10", "Gowal2020Uncovering_28_10_extra"), ("cifar100", "Rice2020Overfitting")])
def test_shipped_traits_are_what_the_code_derives(dataset, model_id):
    shipped = read_metadata()[(dataset, model_id, True)]
    derived = architecture_traits(robustbench_entry(dataset, model_id)["model"])
    assert {k: shipped[k] for k in derived} == derived


def test_user_csv_adds_pairs_and_overrides_metadata(tmp_path):
    path = tmp_path / "more.csv"
    path.write_text(
        "dataset,robust_id,normal_id,architecture,robust_entry_point,robust_checkpoint,robust_activation\n"
        "cifar10,Mine,Andriushchenko2020Understanding,PreActResNet-18,mypkg:net,mine.pt,gelu\n"
    )
    cat = load_catalogue(extra=[path])
    assert len(cat) == 72
    mine = cat.select("cifar10", ["Mine"]).pairs[0]
    assert (mine.robust.source, mine.robust.entry_point, mine.robust.checkpoint) == ("entry_point", "mypkg:net", "mine.pt")
    assert mine.robust.meta == {"activation": "gelu"}
    assert mine.normal.source == "lightning" and mine.normal.meta["activation"] == "relu"


def test_catalogue_replaced_by_reference_file_and_bad_input():
    assert len(load_catalogue(REFERENCE)) == 71
    with pytest.raises(ConfigError, match="names"):
        load_catalogue().select("cifar10", ["NoSuchModel"])


def test_bad_rows_are_config_errors(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[pair]]\ndataset = "cifar10"\nrobust_id = "x"\n')
    with pytest.raises(ConfigError, match="lacks"):
        read_pairs_file(path)
    path.write_text("[[pair]\n")
    with pytest.raises(ConfigError, match="TOML"):
        read_pairs_file(path)
