"""The public Python API: what ``__all__`` lists exists, and the README's example runs as written."""

import re
from pathlib import Path

import torch

import truncatedtl

README = Path(__file__).parent.parent / "README.md"


def readme_example() -> str:
    """The Python code block of the README's "Python API" section."""
    section = README.read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_everything_listed_in_all_exists():
    assert all(callable(getattr(truncatedtl, name)) for name in truncatedtl.__all__)
    assert {"create_model", "cut_points", "load_backbone", "load_run", "search", "svcca", "profile"} <= set(
        truncatedtl.__all__)


def test_the_readme_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), str(README), "exec"), namespace)
    assert len(namespace["points"]) == 17 and namespace["points"][11].name == "layer3.3"
    assert namespace["logits"].shape == (1, 2) and isinstance(namespace["model"], torch.nn.Module)
    assert round(namespace["cost"].params / 1e6, 2) == 6.31  # as `ttl cutpoints resnet50` says at k = 11
    loaded = namespace["loaded"]
    assert loaded.spec.cut == 2 and loaded.result == namespace["run"].result
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in namespace["run"].state.items())


def test_a_segmentation_model_is_a_unet_for_its_mask_classes():
    model = truncatedtl.create_model("unet_resnet18", cut=2, num_classes=3)
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)
