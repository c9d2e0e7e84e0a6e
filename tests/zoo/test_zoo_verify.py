"""``overconf zoo verify`` checks and reports every model, even when one file is hostile."""

from __future__ import annotations

from typer.testing import CliRunner

from overconf.cli import app

MODEL_ID = "Andriushchenko2020Understanding"


def test_verify_reports_every_model_when_one_raises_while_unpickling(tmp_path, random_state, lightning_tar):
    models = tmp_path / "models"
    robust = models / "cifar10" / "Linf" / f"{MODEL_ID}.pt"
    robust.parent.mkdir(parents=True)
    robust.write_bytes(b"\x80\x02cbuiltins\nset\nK\x01\x85R.")  # builtins.set(1) raises inside the unpickler
    normal = models / "cifar10" / "normal" / f"cifar10_normal_robustbench_{MODEL_ID}.tar"
    lightning_tar(normal, MODEL_ID, random_state("cifar10", MODEL_ID, seed=1))
    result = CliRunner().invoke(app, ["zoo", "verify", "--pairs", MODEL_ID, "--models-dir", str(models)])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert any(line.startswith("ok cifar10/") and line.endswith("_normal") for line in lines), result.output
    assert f"FAIL cifar10/{MODEL_ID}" in lines, result.output
    assert f"{robust}: unpickling failed inside an allowed constructor (TypeError" in result.output
    assert "Traceback" not in result.output
