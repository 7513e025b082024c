"""The notices package's layers: builders are pure, and only the outbox writes the outbox table."""

from __future__ import annotations

import ast
from pathlib import Path

import pilotzones.notices

PACKAGE = Path(pilotzones.notices.__file__).parent


def _imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_builders_open_no_session_and_read_no_database():
    imported = _imports("build")
    assert not {
        m
        for m in imported
        if m.startswith(
            ("sqlalchemy", "pilotzones.store.session", "pilotzones.store.models", "pilotzones.store.ledger")
        )
    }
    assert "pilotzones.store.home" not in imported


def test_delivery_changes_the_outbox_only_through_the_outbox_module():
    imported = _imports("delivery")
    assert not {
        m for m in imported if m.startswith(("sqlalchemy", "pilotzones.store.session", "pilotzones.store.models"))
    }
