"""The SES e-mail template and a renderer for the part of its syntax we use.

`templates/fraud-alert.json` is in SES's `CreateEmailTemplate` shape (Subject, Html, Text),
so the same file can be uploaded as the stored SES template `SES_TEMPLATE`. The handler
renders it itself by default: a missing value then fails the record at once, instead of
SES accepting the send and dropping the e-mail later with an asynchronous rendering failure.

Supported Handlebars subset: `{{name}}`, `{{this}}`, `{{#each name}}…{{/each}}`,
`{{#if name}}…{{/if}}`. Values are HTML-escaped in the HTML part, as Handlebars does.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATE_FILE = Path(__file__).parent / "templates" / "fraud-alert.json"
_TAG = re.compile(r"\{\{\s*([#/]?)\s*(\w+)(?:\s+(\w+))?\s*\}\}")


class TemplateError(ValueError):
    """The template is invalid, or the data lacks a value the template names."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    subject: str
    html: str
    text: str

    def render(self, data: Mapping[str, Any]) -> RenderedEmail:
        return RenderedEmail(
            subject=render(self.subject, data, escape=str),
            html=render(self.html, data, escape=html.escape),
            text=render(self.text, data, escape=str),
        )


@cache
def load_template(path: Path = TEMPLATE_FILE) -> EmailTemplate:
    document = json.loads(path.read_text(encoding="utf-8"))
    content = document["TemplateContent"]
    return EmailTemplate(
        name=document["TemplateName"],
        subject=content["Subject"],
        html=content["Html"],
        text=content["Text"],
    )


def render(template: str, data: Any, escape: Callable[[str], str]) -> str:
    parts: list[str] = []
    position = 0
    while (tag := _TAG.search(template, position)) is not None:
        parts.append(template[position : tag.start()])
        kind, word, argument = tag.groups()
        if kind == "/":
            raise TemplateError(f"{{{{/{word}}}}} closes nothing")
        if kind == "#":
            text, position = _render_section(template, tag.end(), word, argument, data, escape)
            parts.append(text)
        else:
            parts.append(escape(_format(_lookup(data, word))))
            position = tag.end()
    parts.append(template[position:])
    return "".join(parts)


def _render_section(
    template: str,
    start: int,
    helper: str,
    name: str | None,
    context: Any,
    escape: Callable[[str], str],
) -> tuple[str, int]:
    if helper not in ("each", "if") or name is None:
        raise TemplateError(f"unsupported block {{{{#{helper} {name}}}}}")
    body_end, end = _section_end(template, start, helper)
    body = template[start:body_end]
    value = _lookup(context, name)
    items: list[Any] = list(value) if helper == "each" else [context] if value else []
    return "".join(render(body, item, escape) for item in items), end


def _section_end(template: str, start: int, helper: str) -> tuple[int, int]:
    """Where the section's body ends and where its closing tag ends (sections may nest)."""
    depth = 0
    for tag in _TAG.finditer(template, start):
        kind, word, _ = tag.groups()
        if kind == "#":
            depth += 1
        elif kind == "/" and depth > 0:
            depth -= 1
        elif kind == "/":
            if word != helper:
                raise TemplateError(f"{{{{/{word}}}}} closes {{{{#{helper}}}}}")
            return tag.start(), tag.end()
    raise TemplateError(f"{{{{#{helper}}}}} is never closed")


def _lookup(context: Any, name: str) -> Any:
    if name == "this":
        return context
    if not isinstance(context, Mapping) or name not in context:
        raise TemplateError(f"template value {name!r} is missing")
    return context[name]


def _format(value: Any) -> str:
    return "" if value is None else str(value)
