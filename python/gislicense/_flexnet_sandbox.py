"""The sandbox's ArcGIS License Manager: a state file, a stand-in ``lmutil`` that answers from
it, and the debug log it writes."""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gislicense import _core


def _time(value: _dt.datetime | str) -> str:
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def _script(folder: Path, state: Path) -> Path:
    """A program named lmutil that runs the stand-in with the state file: a shell script,
    or a .cmd file on Windows."""
    python = sys.executable
    if os.name == "nt":
        path = folder / "lmutil.cmd"
        path.write_text(f'@"{python}" -m gislicense._lmutil "{state}" %*\r\n', encoding="utf-8")
        return path
    path = folder / "lmutil"
    quoted = [f"'{part}'" for part in (python, str(state))]
    path.write_text(
        f'#!/bin/sh\nexec {quoted[0]} -m gislicense._lmutil {quoted[1]} "$@"\n', encoding="utf-8"
    )
    path.chmod(stat.S_IRWXU)
    return path


class LicenseManagerSandbox:
    """An ArcGIS License Manager of the sandbox's own, answering a stand-in ``lmutil``.

    ``lmutil lmstat -a`` prints the real format with its quirks (start times without a year,
    ArcMap's encoded display strings, ``, 2 licenses``, ``, PID: n``, a borrowed license's
    ``(linger: ...)``, a feature of ``1 license``, a named-user feature listed as
    ``(Error: 48 licenses, unsupported by licensed server)``); ``lmutil lmremove -h`` takes a
    license back (or is refused, as a server started with ``lmgrd -x lmremove``); and each
    check-out and removal is written to a debug log (:attr:`log_path`)::

        with LicenseManagerSandbox(sessions=20) as sb:
            flexnet = gislicense.FlexNet(sb.server, lmutil=sb.lmutil_path)

    Args:
        sessions: Licenses checked out at start (seeded), when ``site`` is not given.
        seed: Seed of the generated sessions.
        now: The License Manager's clock (the status line's time; default: now).
        refuse_remove: Refuse lmremove.
        checks_out_again: Every session's application is still running: after an
            lmremove it checks the license out again at once, under a new handle.
        site: The whole License Manager instead of a seeded one: a mapping with
            ``features`` (``name``, ``issued``, optional ``error``) and ``sessions``
            (``feature``, ``username``, ``workstation``, ``start`` as a datetime or
            ``yyyy-mm-dd hh:mm``, optional ``display``, ``licenses``, ``borrowed``,
            ``pid``, ``checks_out_again``).
    """

    def __init__(
        self,
        sessions: int = 25,
        *,
        seed: int = 1,
        now: _dt.datetime | None = None,
        refuse_remove: bool = False,
        checks_out_again: bool = False,
        site: Mapping[str, Any] | None = None,
    ) -> None:
        clock = _time(now or _dt.datetime.now())
        settings: dict[str, Any] = json.loads(_core.flexnet_seeded(seed, sessions, clock))
        if site is not None:
            settings["features"] = [dict(f) for f in site.get("features", settings["features"])]
            settings["sessions"] = [
                {**s, "start": _time(s["start"])} for s in site.get("sessions", ())
            ]
        settings["refuse_remove"] = refuse_remove
        if checks_out_again:
            for session in settings["sessions"]:
                session["checks_out_again"] = True
        self._folder = Path(tempfile.mkdtemp(prefix="gislicense-lmgrd-"))
        self.state_path = self._folder / "license-manager.json"
        self.log_path = self._folder / "lmgrd9.log"
        settings["log"] = str(self.log_path)
        _core.flexnet_create(str(self.state_path), json.dumps(settings))
        self.lmutil_path = _script(self._folder, self.state_path)
        self.server = f"{settings['port']}@{settings['host']}"

    def _change(self, **values: Any) -> None:
        settings = json.loads(_core.flexnet_state(str(self.state_path)))
        settings.update(values)
        self.state_path.write_text(json.dumps(settings), encoding="utf-8")

    def refuse_remove(self, refuse: bool = True) -> None:
        """Refuse (or honour again) lmremove from now on."""
        self._change(refuse_remove=refuse)

    def take_down(self, down: bool = True) -> None:
        """Stop (or restart) answering: lmutil then says it cannot connect."""
        self._change(down=down)

    def sessions(self) -> list[dict[str, Any]]:
        """The sessions checked out now, as the state holds them."""
        return list(json.loads(_core.flexnet_state(str(self.state_path)))["sessions"])

    def check_out(self, sessions: Iterable[Mapping[str, Any]]) -> None:
        """Add sessions (as for ``site``), handles numbered on."""
        settings = json.loads(_core.flexnet_state(str(self.state_path)))
        for s in sessions:
            entry = {**s, "start": _time(s.get("start", settings["now"])), "handle": 0}
            entry["handle"] = settings["next_handle"]
            settings["next_handle"] += 1
            settings["sessions"].append(entry)
        self.state_path.write_text(json.dumps(settings), encoding="utf-8")

    def stop(self) -> None:
        """Remove its folder (state, stand-in lmutil and log)."""
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> LicenseManagerSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LicenseManagerSandbox({self.server!r}, lmutil={str(self.lmutil_path)!r})"
