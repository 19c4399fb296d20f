"""Reports out to files: CSV (always) and Parquet (with the optional ``pyarrow``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gislicense.exceptions import InvalidInputError


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` to ``path`` (created readable by its owner only): Parquet when the
    name ends in ``.parquet``, else CSV."""
    from gislicense._folders import open_private

    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # type: ignore[import-untyped,import-not-found,unused-ignore]
            import pyarrow.parquet  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError:
            raise InvalidInputError(
                "Parquet needs pyarrow: pip install 'gislicense[parquet]'"
            ) from None
        columns = list(rows[0]) if rows else []
        data = pyarrow.table({c: [r.get(c) for r in rows] for c in columns})
        # Made 0600 first; pyarrow writes into the file that is there.
        open_private(path).close()
        pyarrow.parquet.write_table(data, str(path))
        return path
    from gislicense._output import to_csv

    with open_private(path, newline="") as file:
        file.write(to_csv(rows, list(rows[0]) if rows else []))
    return path
