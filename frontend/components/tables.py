"""Tables of formatted rows (`list[dict[str, str]]`): a column is (key, label), and a
column whose key has a `<key>_tone` entry in the row is coloured by it (green/red/gray)."""

from __future__ import annotations

import reflex as rx

Column = tuple[str, str]


def _cell(row: rx.Var, key: str, toned: bool, wraps: bool = False) -> rx.Component:
    space = "normal" if wraps else "nowrap"
    if toned:
        return rx.table.cell(rx.text(row[key], color_scheme=row[f"{key}_tone"]),
                             white_space=space)
    return rx.table.cell(row[key], white_space=space)


def table(columns: list[Column], rows: rx.Var, table_id: str, toned: tuple[str, ...] = (),
          row_class: str = "row", wrap: tuple[str, ...] = ()) -> rx.Component:
    """`wrap`: the columns whose text may wrap (the others stay on one line)."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(label)
                                       for _, label in columns])),
        rx.table.body(rx.foreach(
            rows,
            lambda row: rx.table.row(*[_cell(row, key, key in toned, key in wrap) for key, _ in columns],
                                     class_name=row_class, id=row["row_id"]),
        )),
        size="1", variant="surface", width="100%", id=table_id,
    )
