"""SQL text helpers shared by the job's modules: literals, intervals, time formats, the
WITH clause of a table, and column lists from a contract. No Flink import: text only."""

from __future__ import annotations

from contracts.fields import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    NUMBERS,
    NUMBERS_BY_NAME,
    STRING,
    STRINGS,
    TIMESTAMP,
    Contract,
    ContractError,
)

ISO_FORMAT = "yyyy-MM-dd''T''HH:mm:ss.SSS''Z''"
EPOCH_SQL = "TIMESTAMP '1970-01-01 00:00:00.000'"
NO_ARRIVAL_SQL = "CAST(NULL AS TIMESTAMP_LTZ(3))"

# A contract type as the job's tables hold it (timestamps travel as RFC 3339 text).
SQL_TYPES = {
    STRING: "STRING",
    TIMESTAMP: "STRING",
    NUMBER: "DOUBLE",
    INTEGER: "BIGINT",
    BOOLEAN: "BOOLEAN",
    STRINGS: "ARRAY<STRING>",
    NUMBERS: "ARRAY<DOUBLE>",
    NUMBERS_BY_NAME: "MAP<STRING, DOUBLE>",
}


def interval_sql(millis: int) -> str:
    """A SQL day-to-second interval literal of exactly `millis` milliseconds."""
    days, rem = divmod(millis, 86_400_000)
    hours, rem = divmod(rem, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    seconds, ms = divmod(rem, 1000)
    literal = f"{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"
    return f"INTERVAL '{literal}' DAY(3) TO SECOND(3)"


def iso_sql(column: str) -> str:
    """RFC 3339 UTC text of a timestamp column (the session time zone is UTC)."""
    return f"DATE_FORMAT({column}, '{ISO_FORMAT}')"


def epoch_millis_sql(column: str) -> str:
    """Epoch milliseconds of a TIMESTAMP(3) column (the session time zone is UTC)."""
    seconds = f"UNIX_TIMESTAMP(DATE_FORMAT({column}, 'yyyy-MM-dd HH:mm:ss'))"
    return f"({seconds} * 1000 + CAST(DATE_FORMAT({column}, 'SSS') AS BIGINT))"


def literal_sql(value: float | None, sql_type: str) -> str:
    """A typed literal (NULL for None)."""
    return f"CAST({'NULL' if value is None else repr(value)} AS {sql_type})"


def with_sql(options: dict[str, str]) -> str:
    """The body of a table's WITH clause."""
    return ",\n  ".join(f"'{k}' = '{v}'" for k, v in options.items())


def quoted(name: str) -> str:
    return f"`{name}`"


def sql_type(contract: Contract, name: str) -> str:
    kind = contract.field(name).type
    if kind not in SQL_TYPES:
        raise ContractError(f"{contract.title}.{name}: type {kind} has no SQL column type")
    return SQL_TYPES[kind]


def columns_ddl(contract: Contract, *, omit: tuple[str, ...] = ()) -> str:
    """The columns of a table holding `contract`'s records, in the contract's order."""
    return "".join(
        f"\n  {quoted(n)} {sql_type(contract, n)}," for n in contract.names() if n not in omit
    ).rstrip(",")


def select_by_name(
    contract: Contract, values: dict[str, str], *, omit: tuple[str, ...] = ()
) -> str:
    """`expression AS name, ...` for every field of `contract` (but `omit`), in its order;
    a field without an expression raises ContractError naming it."""
    names = [n for n in contract.names() if n not in omit]
    expressions = contract.ordered(values, omit=omit)
    return ",\n  ".join(f"{e} AS {quoted(n)}" for e, n in zip(expressions, names, strict=True))


def insert_by_name(
    table: str,
    contract: Contract,
    values: dict[str, str],
    source: str,
    *,
    omit: tuple[str, ...] = (),
) -> str:
    """INSERT INTO `table` (its columns named) SELECT one expression per contract field."""
    columns = ", ".join(quoted(n) for n in contract.names() if n not in omit)
    select = select_by_name(contract, values, omit=omit)
    return f"INSERT INTO {table} ({columns}) SELECT\n  {select}\nFROM {source}"
