"""Writing many rows at once, outside the ORM's unit of work (a national import's new producers, products,
certificates and audit entries), and telling those who listen for product and certificate changes.

Rows written here are invisible to the ORM's flush and mapper events, which keep the search index in step and
clear cached programme figures: whoever writes in bulk calls written_in_bulk once with the products it wrote, and
whoever listens to those events registers here too (search.indexing, storefront.programme_pages).

PostgreSQL: SQLAlchemy's multi-row INSERT … VALUES … RETURNING sends one placeholder per value, and psycopg parses
such a statement in Python each time (about 0.1 s per thousand product rows); instead each chunk of rows travels as
one JSON parameter that json_populate_recordset turns into rows of the table's own types, with ids taken from the
table's sequence beforehand. Other databases (SQLite): Core insert().returning, executemany.
"""

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

#: Rows per statement on PostgreSQL.
CHUNK = 5000

_listeners: list[Callable[[Session, set[int]], None]] = []


def on_written_in_bulk(listener: Callable[[Session, set[int]], None]) -> Callable[[Session, set[int]], None]:
    """Registers `listener(session, product_ids)` (a decorator, as sqlalchemy.event.listens_for is used)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def written_in_bulk(session: Session, product_ids: Iterable[int]) -> None:
    """Tells the listeners that these products, their certificates or their producers were written in `session`
    without the ORM (nothing is told of an empty set)."""
    ids = set(product_ids)
    if ids:
        for listener in list(_listeners):
            listener(session, ids)


class _Context:
    """What a column's Python default function reads (sqlalchemy's execution context, for one row)."""

    def __init__(self, values: dict):
        self.current_parameters = values

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict:
        return self.current_parameters


def with_defaults(table: Table, values: dict) -> dict:
    """`values` with every other column's Python default (plain or computed) filled in, and None for columns with
    no default at all: what the row holds once inserted, as a flushed ORM object shows it to audit.snapshot."""
    for column in table.columns:
        if column.key in values or column.primary_key:
            continue
        default = column.default
        if default is None:
            if column.server_default is None:
                values[column.key] = None
        elif default.is_scalar:
            values[column.key] = default.arg
        elif default.is_callable:
            values[column.key] = default.arg(_Context(values))
    return values


def insert_rows(session: Session, table: Table, rows: list[dict]) -> list[int]:
    """Inserts the rows (each with the same columns) and returns their new ids, in the rows' order."""
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(connection.execute(statement, rows).scalars())
    sequence = func.pg_get_serial_sequence(table.name, table.c.id.name)
    ids = list(
        connection.execute(select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows)))).scalars()
    )
    columns = [table.c.id.name, *(table.c[key].name for key in rows[0])]
    quote = connection.dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in columns)
    name = quote.format_table(table)
    statement = text(
        f"INSERT INTO {name} ({names}) SELECT {names} FROM json_populate_recordset(CAST(NULL AS {name}), :rows)"
    )
    for start in range(0, len(rows), CHUNK):
        chunk = [
            {table.c.id.name: row_id, **{table.c[key].name: value for key, value in row.items()}}
            for row_id, row in zip(ids[start : start + CHUNK], rows[start : start + CHUNK], strict=True)
        ]
        connection.execute(statement, {"rows": json.dumps(chunk, default=_json_value)})
    return ids


def set_column(session: Session, table: Table, column: str, values: dict[int, object]) -> None:
    """Sets one column of the rows with these ids (id → value)."""
    if not values:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(
            update(table).where(table.c.id == bindparam("row_id")).values({column: bindparam("value")}),
            [{"row_id": row_id, "value": value} for row_id, value in values.items()],
        )
        return
    quote = connection.dialect.identifier_preparer
    name, target = quote.format_table(table), quote.quote(table.c[column].name)
    statement = text(
        f"UPDATE {name} SET {target} = source.{target} "
        f"FROM json_populate_recordset(CAST(NULL AS {name}), :rows) AS source WHERE {name}.id = source.id"
    )
    items = list(values.items())
    for start in range(0, len(items), CHUNK):
        chunk = [{"id": row_id, table.c[column].name: value} for row_id, value in items[start : start + CHUNK]]
        connection.execute(statement, {"rows": json.dumps(chunk, default=_json_value)})


def _json_value(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not written in bulk")
