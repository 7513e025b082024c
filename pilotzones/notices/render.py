"""Jinja2 rendering: one data dict gives the subject, the plain-text part and the HTML part.

Templates live in the project's `templates/` folder: `_layout.{txt,html}.j2` is the official form
(document number, title, addressee, body, what to do, authority, date) and `<kind>.{txt,html}.j2`
fills its blocks. HTML is autoescaped, so text that came from a county renders as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pilotzones.rules.rectification import add_months  # noqa: F401  (notices date a card's deadline with the rule's function)
from pilotzones.settings import settings

# templates/ ships as the package `pilotzones.templates` (the checkout's folder in an editable
# install); PILOTZONES_TEMPLATES (settings.templates) points elsewhere.
DEFAULT_TEMPLATES = Path(str(files("pilotzones.templates")))


def templates_dir() -> Path:
    return settings().templates or DEFAULT_TEMPLATES


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def cn_date(value: date | datetime) -> str:
    """2023年12月31日"""
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime) -> str:
    """2023年12月20日23时59分59秒 (deadlines are inclusive to the second)."""
    return f"{cn_date(value)}{value.hour}时{value.minute:02d}分{value.second:02d}秒"


@lru_cache(maxsize=4096)
def points(value: float | int | None) -> str:
    """Points as written on a score sheet: 812.5, 850, 0.25 (no trailing zeros).

    Cached: a year's notices print the same few hundred values (weights, points) half a million times.
    """
    if value is None:
        return "—"
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_DICT_METHODS = frozenset(dir(dict))


class _Environment(Environment):
    """Reads a dict's keys first: notice data is dicts, and Jinja's default (the attribute, then the
    key on AttributeError) raised and caught an exception for each of the ~600 lookups of a result
    notice's item table, most of rendering a national year's notices."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_METHODS:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@lru_cache(maxsize=4)
def _env(folder: str) -> Environment:
    env = _Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, points=points)
    return env


def render(kind: str, data: dict, folder: Path | None = None) -> Rendered:
    """Render `kind` from `data` (which holds at least title and doc_number), with the templates in
    `folder` (default: the settings' folder, read again: a batch passes it once)."""
    env = _env(str(folder or templates_dir()))
    text = env.get_template(f"{kind}.txt.j2").render(**data)
    html = env.get_template(f"{kind}.html.j2").render(**data)
    return Rendered(subject=f"{data['title']}（{data['doc_number']}）", text=text, html=html)
