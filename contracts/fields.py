"""A record contract as data: a table of fields, each with a type, required-ness and rule.

Every consumer reads the same table: the job's DDL and INSERTs (flink_job), the fan-out
Lambda, the API, the simulator, the registry, the README's tables (`python -m
contracts.markdown`) and the tests that hold the Java parser, Terraform's Glue tables and
the README against it (tests/test_contracts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

# The types a field may have, as JSON carries them.
STRING = "string"
TIMESTAMP = "timestamp"  # a string: RFC 3339 in UTC (`Z` or `+00:00`)
NUMBER = "number"  # a finite JSON number, read as a double
INTEGER = "integer"
BOOLEAN = "boolean"
STRINGS = "list of strings"
NUMBERS = "list of numbers"  # finite JSON numbers, read as doubles
NUMBERS_BY_NAME = "object of numbers"
OBJECT = "object"
TYPES = (STRING, TIMESTAMP, NUMBER, INTEGER, BOOLEAN, STRINGS, NUMBERS, NUMBERS_BY_NAME, OBJECT)
# A type as the Glue tables (Hive DDL) of the alerts lake and the archive hold it; timestamps
# stay RFC 3339 text. An `object` field has no column.
HIVE_TYPES = {
    STRING: "string",
    TIMESTAMP: "string",
    NUMBER: "double",
    INTEGER: "bigint",
    BOOLEAN: "boolean",
    STRINGS: "array<string>",
    NUMBERS: "array<double>",
    NUMBERS_BY_NAME: "map<string,double>",
}
# A Hive type as DuckDB reads it (the local readers of the lakes: local.insights, the
# decision log).
HIVE_TO_DUCKDB = {
    "string": "VARCHAR",
    "double": "DOUBLE",
    "bigint": "BIGINT",
    "boolean": "BOOLEAN",
    "array<string>": "VARCHAR[]",
    "array<double>": "DOUBLE[]",
    "map<string,double>": "MAP(VARCHAR, DOUBLE)",
}


class ContractError(ValueError):
    """A contract is used wrongly (an unknown field, a field no expression produces)."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    rule: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ContractError(f"field {self.name}: unknown type {self.type!r}")


@dataclass(frozen=True)
class Contract:
    """One record kind: its title, its `schema` tag (None when records carry none), where it
    travels, and its fields in order (the order producers write them)."""

    title: str
    schema: str | None
    travels: str
    fields: tuple[Field, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def required_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def hive_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, Hive type) of every field, in order: the Glue table of these records."""
        return tuple((f.name, HIVE_TYPES[f.type]) for f in self.fields)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise ContractError(f"{self.title} has no field {name!r}")

    def ordered(self, values: dict[str, str], *, omit: tuple[str, ...] = ()) -> list[str]:
        """`values` (one text per field name) in the contract's order, every field but
        `omit` present: a field added to the contract and not to `values` fails here, by name."""
        missing = [n for n in self.names() if n not in values and n not in omit]
        unknown = [n for n in values if n not in self.names()]
        if missing or unknown:
            raise ContractError(
                f"{self.title}: no value for {missing or 'nothing'}, unknown {unknown or 'none'}"
            )
        return [values[n] for n in self.names() if n not in omit]


def table(text: str) -> tuple[Field, ...]:
    """Fields from a text table, one row a field: `name | type | yes/no | rule`. A row whose
    name cell is empty continues the rule of the row above."""
    rows: list[list[str]] = []
    for line in text.strip().splitlines():
        cells = [cell.strip() for cell in line.split("|", 3)]
        if len(cells) != 4:
            raise ContractError(f"a field row needs 4 cells: {line!r}")
        if not cells[0] and rows:
            rows[-1][3] = f"{rows[-1][3]} {cells[3]}".strip()
            continue
        if cells[2] not in ("yes", "no"):
            raise ContractError(f"field {cells[0]}: required must be yes or no, not {cells[2]!r}")
        rows.append(cells)
    return tuple(Field(name, kind, required == "yes", rule) for name, kind, required, rule in rows)
