"""The one exception the rule compiler raises: a rule refused, with the place it names."""

from __future__ import annotations

MAX_QUOTED = 60  # characters of the offending text quoted in a message


class RuleError(ValueError):
    """A rule refused at write time. `line` and `column` (1-based) and `text` name the
    offending place; `str()` is the message an analyst sees: `line:column: what, in `text``."""

    def __init__(self, message: str, line: int = 1, column: int = 1, text: str = "") -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.text = text
        quoted = text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"
        where = f" in `{quoted}`" if text else ""
        super().__init__(f"{line}:{column}: {message}{where}")
