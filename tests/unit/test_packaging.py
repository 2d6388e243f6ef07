"""What the wheel installs: every package of the tree, all under `rag`, none with a generic top-level name."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_folder_is_installed_under_rag():
    config = _setuptools()
    folders = {"rag": ROOT / "rag", **{name: ROOT / folder for name, folder in config["package-dir"].items()}}
    found = set()
    for name, base in folders.items():
        for init in base.rglob("__init__.py"):
            relative = init.parent.relative_to(base).parts
            found.add(".".join((name, *relative)))
    assert sorted(config["packages"]) == sorted(found)
    assert {p.split(".")[0] for p in config["packages"]} == {"rag"}


def test_the_folders_beside_rag_install_as_its_subpackages():
    assert _setuptools()["package-dir"] == {"rag": "rag", "rag.index": "index", "rag.ui": "ui", "rag.evals": "evals"}
