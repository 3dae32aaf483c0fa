"""Just enough SQL to answer queries on Tinybird's service data sources the way its docs write them.

Clients fall back to jobs_log once a job has left the Jobs API (48 h retention), so the emulator
must answer ``SELECT ... FROM tinybird.jobs_log WHERE job_id = '...' FORMAT JSON``, and event
watchers read time windows of it (``updated_at >= '...' AND status IN (...) ... LIMIT n OFFSET m``);
a failed import, copy or sink is explained by its rows in ``tinybird.datasources_ops_log`` and
``tinybird.sinks_ops_log``, which the same grammar reads. Values compare as ClickHouse compares a
column with a string literal of its own format: DateTime strings ('2024-07-22 11:47:58') sort as
text in time order, and a number column compares as a number. The grammar
understood is deliberately tiny and everything else is refused with a message saying what the
emulator does understand, rather than answered wrongly.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

JOBS_LOG = "tinybird.jobs_log"
JOBS_LOG_COLUMNS: Mapping[str, str] = {
    "job_id": "String",
    "job_type": "LowCardinality(String)",
    "status": "LowCardinality(String)",
    "error": "Nullable(String)",
    "pipe_id": "String",
    "pipe_name": "String",
    "datasource_id": "String",
    "datasource_name": "String",
    "created_at": "DateTime",
    "updated_at": "DateTime",
    "started_at": "Nullable(DateTime)",
    "job_metadata": "String",
}
DATASOURCES_OPS_LOG = "tinybird.datasources_ops_log"
DATASOURCES_OPS_LOG_COLUMNS: Mapping[str, str] = {
    "timestamp": "DateTime",
    "event_type": "LowCardinality(String)",
    "datasource_id": "String",
    "datasource_name": "String",
    "result": "LowCardinality(String)",
    "elapsed_time": "Float32",
    "error": "Nullable(String)",
    "import_id": "Nullable(String)",
    "job_id": "Nullable(String)",
    "rows": "Nullable(UInt64)",
    "rows_quarantine": "Nullable(UInt64)",
    "pipe_id": "String",
    "pipe_name": "String",
    "read_rows": "UInt64",
    "read_bytes": "UInt64",
    "written_rows": "UInt64",
    "written_bytes": "UInt64",
}
SINKS_OPS_LOG = "tinybird.sinks_ops_log"
SINKS_OPS_LOG_COLUMNS: Mapping[str, str] = {
    "timestamp": "DateTime",
    "service": "LowCardinality(String)",
    "pipe_id": "String",
    "pipe_name": "String",
    "result": "LowCardinality(String)",
    "error": "Nullable(String)",
    "elapsed_time": "Float64",
    "job_id": "Nullable(String)",
    "read_rows": "UInt64",
    "written_rows": "UInt64",
    "read_bytes": "UInt64",
    "written_bytes": "UInt64",
    "output": "Array(String)",
}
TABLES: Mapping[str, Mapping[str, str]] = {
    JOBS_LOG: JOBS_LOG_COLUMNS,
    DATASOURCES_OPS_LOG: DATASOURCES_OPS_LOG_COLUMNS,
    SINKS_OPS_LOG: SINKS_OPS_LOG_COLUMNS,
}
GRAMMAR = (
    "SELECT <* | columns> FROM <tinybird.jobs_log | tinybird.datasources_ops_log | tinybird.sinks_ops_log> "
    "[WHERE <column> <=|>=|<|>|=> '<value>' | <column> IN ('<value>', ...) [AND ...]] "
    "[ORDER BY <column> [ASC|DESC]] [LIMIT <n> [OFFSET <m>]] FORMAT JSON"
)
OPERATORS = {
    "=": lambda value, wanted: value == wanted,
    ">=": lambda value, wanted: value >= wanted,
    "<=": lambda value, wanted: value <= wanted,
    ">": lambda value, wanted: value > wanted,
    "<": lambda value, wanted: value < wanted,
}

_QUERY = re.compile(
    r"""^\s*SELECT\s+(?P<columns>.+?)
        \s+FROM\s+(?P<table>[\w.]+)
        (?:\s+WHERE\s+(?P<where>.+?))?
        (?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<direction>ASC|DESC))?)?
        (?:\s+LIMIT\s+(?P<limit>\d+)(?:\s+OFFSET\s+(?P<offset>\d+))?)?
        (?:\s+FORMAT\s+(?P<format>\w+))?
        \s*;?\s*$""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
_CONDITION = re.compile(r"^\s*(?P<column>\w+)\s*(?P<op>>=|<=|=|>|<)\s*'(?P<value>(?:[^'\\]|\\.)*)'\s*$", re.DOTALL)
_IN = re.compile(r"^\s*(?P<column>\w+)\s+IN\s*\((?P<values>.*)\)\s*$", re.DOTALL | re.IGNORECASE)
_LITERAL = re.compile(r"\s*'(?P<value>(?:[^'\\]|\\.)*)'\s*(?:,|$)", re.DOTALL)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


class SqlError(ValueError):
    """A query the emulator does not understand; the message names the problem."""


@dataclass(frozen=True)
class Query:
    columns: tuple[str, ...]
    conditions: tuple[tuple[str, str, str | tuple[str, ...]], ...] = ()
    """(column, operator, value): ``=``, ``>=``, ``<=``, ``>``, ``<`` with a value, ``IN`` with a tuple of them."""
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None
    table: str = JOBS_LOG
    offset: int = 0


def parse_query(sql: str) -> Query:
    """Parse a jobs_log query or raise SqlError."""
    match = _QUERY.match(sql)
    if match is None:
        raise SqlError(f"the emulator only understands queries of the form {GRAMMAR}")
    table = match["table"].lower()
    if table not in TABLES:
        raise SqlError(f"Resource '{match['table']}' not found: the emulator serves {', '.join(TABLES)}")
    if match["format"] is None or match["format"].upper() != "JSON":
        raise SqlError("add FORMAT JSON to the query: the emulator answers only in ClickHouse JSON format")
    columns = _columns(match["columns"], table)
    conditions = tuple(_condition(part, table) for part in _AND.split(match["where"])) if match["where"] else ()
    order_by = match["order"]
    if order_by is not None:
        _check_columns([order_by], table)
    return Query(
        columns=columns,
        conditions=conditions,
        order_by=order_by,
        descending=(match["direction"] or "").upper() == "DESC",
        limit=int(match["limit"]) if match["limit"] else None,
        table=table,
        offset=int(match["offset"]) if match["offset"] else 0,
    )


def _check_columns(names: Iterable[str], table: str = JOBS_LOG) -> None:
    missing = [name for name in names if name not in TABLES[table]]
    if missing:
        quoted = ", ".join(f"'{name}'" for name in missing)
        raise SqlError(f"Missing columns: {quoted} while processing query on {table}")


def _columns(text: str, table: str = JOBS_LOG) -> tuple[str, ...]:
    if text.strip() == "*":
        return tuple(TABLES[table])
    names = tuple(name.strip() for name in text.split(","))
    if not all(re.fullmatch(r"\w+", name) for name in names):
        raise SqlError(f"only '*' or a list of plain column names can be selected, got {text.strip()!r}")
    _check_columns(names, table)
    return names


def _condition(text: str, table: str = JOBS_LOG) -> tuple[str, str, str | tuple[str, ...]]:
    listed = _IN.match(text)
    if listed is not None:
        _check_columns([listed["column"]], table)
        values, rest = [], listed["values"]
        while rest.strip():
            literal = _LITERAL.match(rest)
            if literal is None:
                raise SqlError(f"IN takes a list of 'quoted' values, got {listed['values'].strip()!r}")
            values.append(_unescape(literal["value"]))
            rest = rest[literal.end() :]
        if not values:
            raise SqlError("IN () needs at least one value")
        return listed["column"], "IN", tuple(values)
    match = _CONDITION.match(text)
    if match is None:
        raise SqlError(
            f"only conditions of the forms column = 'value' (or >=, <=, >, <) and column IN ('a', 'b') are "
            f"understood, got {text.strip()!r}"
        )
    _check_columns([match["column"]], table)
    return match["column"], match["op"], _unescape(match["value"])


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _holds(row: Mapping[str, Any], column: str, operator: str, wanted: str | tuple[str, ...]) -> bool:
    """NULL satisfies no condition, as in SQL; a number column compares as a number (``rows >= '10'``)."""
    value = row[column]
    if value is None:
        return False
    if operator == "IN":
        return any(_same(value, item) for item in wanted)
    assert isinstance(wanted, str)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (number := _number(wanted)) is not None:
        return bool(OPERATORS[operator](value, number))
    return bool(OPERATORS[operator](str(value), wanted))


def _same(value: Any, wanted: str) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (number := _number(wanted)) is not None:
        return value == number
    return str(value) == wanted


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _ordered(rows: list[Mapping[str, Any]], column: str, descending: bool) -> list[Mapping[str, Any]]:
    """Sorted on one column, NULLs last either way (ClickHouse's default)."""
    present = sorted((row for row in rows if row[column] is not None), key=lambda row: str(row[column]))
    if descending:
        present.reverse()
    return present + [row for row in rows if row[column] is None]


def run_query(query: Query, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Apply the query to the rows of its table; answer in ClickHouse ``FORMAT JSON`` shape."""
    started = time.perf_counter()
    table = list(rows)
    # NULL equals nothing, as in SQL.
    selected = [
        row
        for row in table
        if all(_holds(row, column, operator, value) for column, operator, value in query.conditions)
    ]
    if query.order_by is not None:
        selected = _ordered(selected, query.order_by, query.descending)
    before_limit = len(selected)
    if query.limit is not None:
        selected = selected[query.offset : query.offset + query.limit]
    data = [{column: row[column] for column in query.columns} for row in selected]
    answer: dict[str, Any] = {
        "meta": [{"name": column, "type": TABLES[query.table][column]} for column in query.columns],
        "data": data,
        "rows": len(data),
    }
    if query.limit is not None:
        answer["rows_before_limit_at_least"] = before_limit
    answer["statistics"] = {
        "elapsed": time.perf_counter() - started,
        "rows_read": len(table),
        "bytes_read": len(json.dumps(table)),
    }
    return answer
