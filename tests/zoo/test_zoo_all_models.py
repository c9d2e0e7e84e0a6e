"""Every catalogue model, against RobustBench (opt-in: minutes and ~4 GB of RAM; ``OVERCONF_ZOO_SWEEP=1``).

For each of the 71 robust models: random weights saved in RobustBench's layout (``{'state_dict': …}``
with DataParallel's ``module.`` prefix; the two exceptions RobustBench hard-codes: ``{'last': …}`` for
Andriushchenko2020Understanding and one file per member for ensembles), loaded by our zoo and by
``robustbench.utils.load_model``; the logits on one image must be equal. For each pair, the normal twin's
architecture (RobustBench's constructor of the normal id) must have the robust architecture's tensors,
as the authors' loader assumes (it loads the twin into the robust id's constructor).
"""

from __future__ import annotations

import gc
import os
import warnings

import pytest
import torch

from overconf.zoo import load_catalogue, load_model
from overconf.zoo.loaders import build_robustbench_architecture, robustbench_entry

warnings.filterwarnings("ignore")
if os.environ.get("OVERCONF_ZOO_SWEEP") != "1":
    pytest.skip("the sweep over all catalogue models is opt-in: set OVERCONF_ZOO_SWEEP=1", allow_module_level=True)
PAIRS = load_catalogue().pairs


def _random(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {
        prefix + k: (torch.rand_like(v) + 0.5 if k.endswith("running_var") else torch.randn_like(v) * 0.05)
        if v.is_floating_point() and not k.endswith(("mu", "sigma", "mean", "std")) else v
        for k, v in state.items()
    }


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p.dataset}-{p.robust.model_id}" for p in PAIRS])
def test_robust_model_equals_robustbench(tmp_path, pair):
    from overconf._compat import import_robustbench

    import_robustbench()
    from robustbench.utils import load_model as rb_load_model

    torch.manual_seed(0)
    model = pair.robust
    net = build_robustbench_architecture(model.dataset, model.arch_id)
    folder = tmp_path / model.dataset / "Linf"
    folder.mkdir(parents=True)
    gdrive = robustbench_entry(model.dataset, model.model_id)["gdrive_id"]
    if isinstance(gdrive, list):
        for i, member in enumerate(net.models):
            torch.save({"state_dict": _random(member.state_dict(), "module.")}, folder / f"{model.model_id}.pt_m{i}.pt")
    elif model.dataset == "imagenet":
        torch.save({"state_dict": _random(net.model.state_dict(), "module.")}, folder / f"{model.model_id}.pt")
    elif model.model_id == "Andriushchenko2020Understanding":
        torch.save({"last": _random(net.state_dict(), "")}, folder / f"{model.model_id}.pt")
    else:
        torch.save({"state_dict": _random(net.state_dict(), "module.")}, folder / f"{model.model_id}.pt")
    del net
    size = 224 if model.dataset == "imagenet" else 32
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = load_model(model, tmp_path)(x)
        gc.collect()
        theirs = rb_load_model(model.model_id, str(tmp_path), model.dataset, "Linf")(x)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert ours.std() > 0


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p.dataset}-{p.robust.model_id}" for p in PAIRS])
def test_normal_twin_fits_the_robust_architecture(pair):
    if pair.normal.source != "lightning":
        pytest.skip("ImageNet twins are timm models")
    with torch.device("meta"):
        robust = build_robustbench_architecture(pair.dataset, pair.robust.arch_id).state_dict()
        normal = build_robustbench_architecture(pair.dataset, pair.normal.arch_id).state_dict()
    assert {k: v.shape for k, v in normal.items()} == {k: v.shape for k, v in robust.items()}
