"""Reports out to files: CSV (always) and Parquet (with the optional ``pyarrow``), written
as the rows come, in bounded memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from gislicense.exceptions import InvalidInputError

#: Rows per Parquet row group (and per batch held in memory).
BATCH = 100_000


def write(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Write ``rows`` to ``path`` (created readable by its owner only): Parquet when the
    name ends in ``.parquet``, else CSV. The columns are the first row's."""
    stream = iter(rows)
    first = next(stream, None)
    columns = list(first) if first is not None else []
    every = chain([first], stream) if first is not None else iter(())
    if path.suffix.lower() == ".parquet":
        return _parquet(path, columns, every)
    return _csv(path, columns, every)


def _csv(path: Path, columns: list[str], rows: Iterator[dict[str, Any]]) -> Path:
    import csv

    from gislicense._folders import open_private
    from gislicense._output import machine_value

    with open_private(path, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(machine_value(row.get(c))) for c in columns])
    return path


def _cell(value: Any) -> Any:
    return ";".join(str(v) for v in value) if isinstance(value, list) else value


def _parquet(path: Path, columns: list[str], rows: Iterator[dict[str, Any]]) -> Path:
    try:
        import pyarrow  # type: ignore[import-untyped,import-not-found,unused-ignore]
        import pyarrow.parquet  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise InvalidInputError(
            "Parquet needs pyarrow: pip install 'gislicense[parquet]'"
        ) from None
    from gislicense._folders import open_private

    open_private(path).close()  # made 0600 first; pyarrow writes into the file that is there
    writer = None
    try:
        while batch := list(islice(rows, BATCH)):
            table = pyarrow.table({c: [r.get(c) for r in batch] for c in columns})
            if writer is None:
                writer = pyarrow.parquet.ParquetWriter(str(path), table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    return path
