"""Just enough SQL to answer queries on ``tinybird.jobs_log`` the way the Tinybird docs write them.

Clients fall back to jobs_log once a job has left the Jobs API (48 h retention), so the emulator
must answer ``SELECT ... FROM tinybird.jobs_log WHERE job_id = '...' FORMAT JSON``, and event
watchers read time windows of it (``updated_at >= '...' AND status IN (...) ... LIMIT n OFFSET m``).
Values compare as ClickHouse compares a column with a string literal of its own format: DateTime
strings ('2024-07-22 11:47:58') sort as text in time order. The grammar
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
GRAMMAR = (
    "SELECT <* | columns> FROM tinybird.jobs_log [WHERE <column> <=|>=|<|>|=> '<value>' "
    "| <column> IN ('<value>', ...) [AND ...]] [ORDER BY <column> [ASC|DESC]] [LIMIT <n> [OFFSET <m>]] FORMAT JSON"
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
    offset: int = 0


def parse_query(sql: str) -> Query:
    """Parse a jobs_log query or raise SqlError."""
    match = _QUERY.match(sql)
    if match is None:
        raise SqlError(f"the emulator only understands queries of the form {GRAMMAR}")
    if match["table"].lower() != JOBS_LOG:
        raise SqlError(f"Resource '{match['table']}' not found: the emulator only serves {JOBS_LOG}")
    if match["format"] is None or match["format"].upper() != "JSON":
        raise SqlError("add FORMAT JSON to the query: the emulator answers only in ClickHouse JSON format")
    columns = _columns(match["columns"])
    conditions = tuple(_condition(part) for part in _AND.split(match["where"])) if match["where"] else ()
    order_by = match["order"]
    if order_by is not None:
        _check_columns([order_by])
    return Query(
        columns=columns,
        conditions=conditions,
        order_by=order_by,
        descending=(match["direction"] or "").upper() == "DESC",
        limit=int(match["limit"]) if match["limit"] else None,
        offset=int(match["offset"]) if match["offset"] else 0,
    )


def _check_columns(names: Iterable[str]) -> None:
    missing = [name for name in names if name not in JOBS_LOG_COLUMNS]
    if missing:
        quoted = ", ".join(f"'{name}'" for name in missing)
        raise SqlError(f"Missing columns: {quoted} while processing query on {JOBS_LOG}")


def _columns(text: str) -> tuple[str, ...]:
    if text.strip() == "*":
        return tuple(JOBS_LOG_COLUMNS)
    names = tuple(name.strip() for name in text.split(","))
    if not all(re.fullmatch(r"\w+", name) for name in names):
        raise SqlError(f"only '*' or a list of plain column names can be selected, got {text.strip()!r}")
    _check_columns(names)
    return names


def _condition(text: str) -> tuple[str, str, str | tuple[str, ...]]:
    listed = _IN.match(text)
    if listed is not None:
        _check_columns([listed["column"]])
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
    _check_columns([match["column"]])
    return match["column"], match["op"], _unescape(match["value"])


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _holds(row: Mapping[str, Any], column: str, operator: str, wanted: str | tuple[str, ...]) -> bool:
    """NULL satisfies no condition, as in SQL."""
    value = row[column]
    if value is None:
        return False
    if operator == "IN":
        return str(value) in wanted
    return bool(OPERATORS[operator](str(value), wanted))


def _ordered(rows: list[Mapping[str, Any]], column: str, descending: bool) -> list[Mapping[str, Any]]:
    """Sorted on one column, NULLs last either way (ClickHouse's default)."""
    present = sorted((row for row in rows if row[column] is not None), key=lambda row: str(row[column]))
    if descending:
        present.reverse()
    return present + [row for row in rows if row[column] is None]


def run_query(query: Query, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Apply the query to jobs_log rows; answer in ClickHouse ``FORMAT JSON`` shape."""
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
        "meta": [{"name": column, "type": JOBS_LOG_COLUMNS[column]} for column in query.columns],
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
