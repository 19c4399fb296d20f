"""The history file: one SQLite database, its versioned schema and its migrations.

Times are whole seconds since 1970 (UTC). The schema is documented, table by table, in
``docs/reference/history-schema.md``; a change to it is a new entry in :data:`MIGRATIONS`
(never an edit of an old one), and the documentation says what it changed.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from gislicense.exceptions import InvalidInputError

#: Each version's statements, applied in order to bring a file from the version before.
MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            gap INTEGER,
            last_poll INTEGER,
            last_sample INTEGER,
            rolled_until INTEGER,
            UNIQUE (kind, name)
        );
        CREATE TABLE polls (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources (id),
            at INTEGER NOT NULL,
            sessions INTEGER,
            error TEXT,
            UNIQUE (source_id, at)
        );
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources (id),
            server TEXT,
            feature TEXT NOT NULL,
            username TEXT,
            workstation TEXT,
            key TEXT NOT NULL,
            licenses INTEGER NOT NULL DEFAULT 1,
            start_time INTEGER,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            open INTEGER NOT NULL,
            idle_seconds INTEGER
        );
        CREATE UNIQUE INDEX sessions_open ON sessions (source_id, key) WHERE open = 1;
        CREATE VIEW intervals AS
            SELECT s.id, s.source_id, s.server, s.feature, s.username, s.workstation,
                   s.licenses, s.start_time, s.first_seen,
                   CASE WHEN s.open = 1 AND src.last_poll IS NOT NULL
                        THEN src.last_poll ELSE s.last_seen END AS last_seen,
                   s.open, s.idle_seconds
            FROM sessions s JOIN sources src ON src.id = s.source_id;
        CREATE INDEX sessions_seen ON sessions (first_seen);
        CREATE TABLE features (
            source_id INTEGER NOT NULL REFERENCES sources (id),
            feature TEXT NOT NULL,
            PRIMARY KEY (source_id, feature)
        ) WITHOUT ROWID;
        CREATE TABLE usage (
            source_id INTEGER NOT NULL,
            feature TEXT NOT NULL,
            at INTEGER NOT NULL,
            in_use INTEGER NOT NULL,
            PRIMARY KEY (source_id, feature, at)
        ) WITHOUT ROWID;
        CREATE TABLE daily (
            source_id INTEGER NOT NULL,
            feature TEXT NOT NULL,
            day TEXT NOT NULL,
            in_use INTEGER NOT NULL,
            seconds INTEGER NOT NULL,
            samples INTEGER NOT NULL,
            last_at INTEGER NOT NULL,
            PRIMARY KEY (source_id, feature, day, in_use)
        ) WITHOUT ROWID;
        CREATE TABLE issued (
            source_id INTEGER NOT NULL REFERENCES sources (id),
            feature TEXT NOT NULL,
            since INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (source_id, feature, since)
        ) WITHOUT ROWID;
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources (id),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            feature TEXT,
            username TEXT,
            workstation TEXT,
            reason TEXT,
            licenses INTEGER,
            raw TEXT NOT NULL DEFAULT '',
            UNIQUE (source_id, at, kind, feature, username, workstation, raw)
        );
        CREATE TABLE member_state (
            source_id INTEGER NOT NULL REFERENCES sources (id),
            username TEXT NOT NULL,
            field TEXT NOT NULL,
            value TEXT,
            since INTEGER NOT NULL,
            PRIMARY KEY (source_id, username, field)
        ) WITHOUT ROWID;
        CREATE TABLE member_changes (
            source_id INTEGER NOT NULL REFERENCES sources (id),
            username TEXT NOT NULL,
            field TEXT NOT NULL,
            at INTEGER NOT NULL,
            value TEXT,
            PRIMARY KEY (source_id, username, field, at)
        ) WITHOUT ROWID;
        """,
    ),
]

#: The schema version this gislicense writes.
VERSION = MIGRATIONS[-1][0]
#: Milliseconds a writer waits for another (a second recorder) before giving up.
BUSY_TIMEOUT_MS = 30_000


def default_path() -> Path:
    """``$GISLICENSE_HISTORY``, else ``history.sqlite`` in the user's data folder."""
    from gislicense._folders import user_folder

    chosen = os.environ.get("GISLICENSE_HISTORY")
    return Path(chosen) if chosen else user_folder("data") / "history.sqlite"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating, readable by its owner only) and migrate the history at ``path``."""
    from gislicense._folders import private_folder

    if not path.exists():
        private_folder(path.parent)
        # Made 0600 before SQLite writes anything into it (SQLite keeps the mode).
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db)
    except sqlite3.DatabaseError as err:
        raise InvalidInputError(f"{path} is not a gislicense history: {err}") from None
    for companion in ("-wal", "-shm"):
        _private(Path(f"{path}{companion}"))
    return db


def _private(path: Path) -> None:
    if os.name == "posix" and path.exists():
        os.chmod(path, 0o600)


def version(db: sqlite3.Connection) -> int:
    """The file's schema version; 0 for a new, empty file."""
    table = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
    if table is None:
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite3.Connection) -> None:
    """Bring the file to :data:`VERSION`, one migration per transaction; two processes
    opening a new file at once make it once (the second waits, then finds it made)."""
    if version(db) == VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        found = version(db)
        if found > VERSION:
            raise InvalidInputError(
                f"this history has schema version {found}; this gislicense reads up to "
                f"{VERSION}: upgrade gislicense"
            )
        for number, statements in MIGRATIONS:
            if number > found:
                for statement in statements.split(";"):
                    if statement.strip():
                        db.execute(statement)
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(VERSION),),
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
