"""The package's folders are its layers: each imports only the layers below it (README, Architecture).

rules < store < reports < notices < intake < stages < cli, with the cross-cutting modules at the top of the
package (settings, errors, clock, gcpause) usable by all. The stage registry (`pilotzones.stages`
itself) names steps and flows by string and imports only the proposal models, so every layer may
consult it; a stage's steps (`pilotzones.stages.evaluation`, ...) only the layers above them.
Only the command line imports Prefect's flows and tasks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pilotzones

PACKAGE = Path(pilotzones.__file__).parent
ORDER = ["rules", "store", "reports", "notices", "intake", "stages", "cli"]
SHARED = {
    "pilotzones",
    "pilotzones.settings",
    "pilotzones.errors",
    "pilotzones.clock",
    "pilotzones.gcpause",
    "pilotzones.stages",
}
ORCHESTRATION = ("pilotzones.flows", "pilotzones.tasks", "pilotzones.deployments")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pilotzones.stages import evaluation` imports the module pilotzones.stages.evaluation
            out.update(
                f"{node.module}.{a.name}" if _is_module(f"{node.module}.{a.name}") else node.module for a in node.names
            )
    return {m for m in out if m == "pilotzones" or m.startswith("pilotzones.")}


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ORDER) else None


def test_every_module_sits_in_a_layer_or_is_shared():
    loose = [p.name for p in PACKAGE.glob("*.py") if f"pilotzones.{p.stem}" not in SHARED | {"pilotzones.__init__"}]
    assert loose == [], f"modules outside the layer folders: {loose}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path):
    rel = path.relative_to(PACKAGE)
    own = rel.parts[0] if len(rel.parts) > 1 else None
    if own is None:  # a shared module: it may import no layer at all
        allowed: set[str] = set()
    else:
        allowed = set(ORDER[: ORDER.index(own) + 1])
    wrong = set()
    for m in _imports(path):
        if m.startswith(ORCHESTRATION):
            if own != "cli":
                wrong.add(m)
            continue
        if m in SHARED:
            continue
        layer = _layer(m)
        if layer is not None and layer not in allowed:
            wrong.add(m)
    assert not wrong, f"{rel} imports from a layer above it: {sorted(wrong)}"
