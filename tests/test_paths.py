"""One cache root for data, trained models and zoo checkpoints."""

from __future__ import annotations

from overconf.data import cifar, fashion_mnist
from overconf.paths import cache_root
from overconf.zoo.loaders import resolve_models_dir


def test_cache_root_order(monkeypatch, tmp_path):
    monkeypatch.delenv("OVERCONF_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "overconf"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "overconf"
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"


def test_every_module_caches_under_the_root(monkeypatch, tmp_path):
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path))
    monkeypatch.delenv("OVERCONF_DATA", raising=False)
    monkeypatch.delenv("OVERCONF_MODELS", raising=False)
    assert fashion_mnist.candidate_dirs()[-1] == tmp_path / "data" / "FashionMNIST" / "raw"
    assert cifar.candidate_roots()[-1] == tmp_path / "data"
    assert resolve_models_dir() == tmp_path / "models"
    monkeypatch.setenv("OVERCONF_MODELS", str(tmp_path / "zoo"))
    assert resolve_models_dir() == tmp_path / "zoo"
