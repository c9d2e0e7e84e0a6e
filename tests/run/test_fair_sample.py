"""n_examples on folder and npz data: a seeded class-stratified sample by default, the first n with order = "sorted"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from overconf.data.base import TensorImageSet
from overconf.data.sample import class_coverage, labels_of, reordered, stratified_order
from overconf.errors import ConfigError
from overconf.run.data import coverage_warnings, fair_order
from overconf.run.plan import resolve
from overconf.run.spec import load_spec, parse_spec_text


def plan_of(spec_file: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    text = spec_file.read_text().replace("n_examples = 40\n", f"n_examples = 40\n{extra}")
    spec_file.write_text(text)
    return resolve(load_spec(spec_file), progress=False)


def covered(plan, family: str) -> int:  # type: ignore[no-untyped-def]
    cell = next(c for c in plan.cells if c.perturbation.family == family)
    return int(np.unique(labels_of(cell.data())).size)


def test_class_sorted_first_n_covers_few_classes_and_warns(my_pair: Path, capsys) -> None:
    # the folder lists 10 classes × 5 images class by class: the first 40 see 8 classes, the first 20 only 4
    plan = plan_of(my_pair, 'order = "sorted"\n')
    assert covered(plan, "clean") == 8 and covered(plan, "attack") == 4
    assert plan.data["order"] == "sorted" and "sample_indices" not in plan.data
    printed = capsys.readouterr().err
    assert "[data] n_examples = 40: the samples evaluated cover 8 of the 10 classes" in printed
    assert "n_examples.attack = 20: the samples evaluated cover 4 of the 10 classes" in printed


def test_the_default_sample_is_class_stratified_seeded_and_fingerprinted(my_pair: Path, capsys) -> None:
    plan = plan_of(my_pair)
    assert covered(plan, "clean") == 10 and covered(plan, "attack") == 10
    assert "warning" not in capsys.readouterr().err
    assert plan.data["order"] == "stratified" and plan.data["order_seed"] == 0 and len(plan.data["sample_indices"]) == 40
    clean = next(c for c in plan.cells if c.perturbation.family == "clean").data()
    attack = next(c for c in plan.cells if c.perturbation.family == "attack").data()
    assert np.array_equal(labels_of(attack), labels_of(clean)[:20])  # nested: attacked images are clean images
    again = resolve(load_spec(my_pair), progress=False)
    assert again.data["sample_indices"] == plan.data["sample_indices"] and again.data["sha256"] == plan.data["sha256"]
    sorted_spec = my_pair.parent / "sorted.toml"
    sorted_spec.write_text(my_pair.read_text().replace('n_examples = 40\n', 'n_examples = 40\norder = "sorted"\n'))
    assert resolve(load_spec(sorted_spec), progress=False).data["sha256"] != plan.data["sha256"]


def test_classes_fix_the_class_order(my_pair: Path) -> None:
    names = [f"class{c:02d}" for c in reversed(range(10))]
    plan = plan_of(my_pair, f"order = \"sorted\"\nclasses = {names!r}\n".replace("'", '"'))
    clean = next(c for c in plan.cells if c.perturbation.family == "clean").data()
    assert clean.samples[0][0].parent.name == "class09" and clean.samples[0][1] == 0  # type: ignore[attr-defined]
    bad = my_pair.parent / "bad.toml"
    bad.write_text(my_pair.read_text().replace('"class09"', '"cat"'))
    with pytest.raises(Exception, match="class folder 'class09' is not in \\[data\\] classes"):
        resolve(load_spec(bad), progress=False)


@pytest.mark.parametrize(("data", "message"), [
    ('dataset = "npz"\npath = "x.npz"\nnum_classes = 3\nclasses = ["a", "b", "c"]', "classes applies to imagefolder"),
    ('dataset = "imagefolder"\npath = "d"\nnum_classes = 3\nclasses = ["a", "a"]', "listed twice"),
    ('dataset = "imagefolder"\npath = "d"\nnum_classes = 3\nclasses = "a"', "must be a list"),
])
def test_classes_key_is_checked(tmp_path: Path, data: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_spec_text(f"[data]\n{data}\n", "s.toml", tmp_path)


def test_an_unknown_order_is_one_clear_error() -> None:
    data = TensorImageSet("t", torch.zeros(6, 1, 2, 2), torch.tensor([0, 0, 1, 1, 2, 2]), 3)
    with pytest.raises(ConfigError, match="unknown order 'random'"):
        fair_order(data, "random", 0, [3], "s.toml: [data]")


def test_every_prefix_of_the_stratified_order_is_proportional() -> None:
    labels = np.repeat(np.arange(10), [300, 300, 300, 300, 300, 100, 100, 100, 100, 100])
    order = stratified_order(labels, seed=3)
    assert sorted(order.tolist()) == list(range(labels.size))
    for n in (10, 50, 200, 1000):
        counts = np.bincount(labels[order[:n]], minlength=10)
        expected = n * np.bincount(labels) / labels.size
        assert np.all(np.abs(counts - expected) <= 1.0), (n, counts)
    assert not np.array_equal(order, stratified_order(labels, seed=4))
    assert np.array_equal(order, stratified_order(labels, seed=3))


def test_npz_data_reordered_keeps_images_with_their_labels() -> None:
    labels = torch.repeat_interleave(torch.arange(4), 5)
    images = labels.view(-1, 1, 1, 1).expand(-1, 1, 2, 2).to(torch.uint8).clone()
    data = TensorImageSet("t", images, labels, 4)
    ordered, record = fair_order(data, None, 0, [8], "w")
    assert isinstance(ordered, TensorImageSet) and record["order"] == "stratified"
    assert torch.equal(ordered.images[:, 0, 0, 0].long(), ordered.labels)
    assert class_coverage(ordered, 8) == (4, 4) and class_coverage(data, 8) == (2, 4)
    assert coverage_warnings(data, {"n_examples": 8}) == ["n_examples = 8: the samples evaluated cover 2 of the 4 classes of t"]
    assert np.array_equal(labels_of(reordered(data, np.array(record["sample_indices"]))), ordered.labels[:8].numpy())
    assert fair_order(data, None, 0, [None], "w")[0] is data  # everything evaluated: order kept
