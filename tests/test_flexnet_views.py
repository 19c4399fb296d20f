"""A License Manager's records in a notebook and in tables: the same view as OpenLM's
sessions (a two-column table of the fields, escaped), and DataFrames whose times are read
as the usage history reads them (the server's naive clock as local time)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

import gislicense
from gislicense.sandbox import LicenseManagerSandbox

NOW = dt.datetime(2020, 1, 2, 10, 15)


@pytest.fixture
def lm() -> Iterator[LicenseManagerSandbox]:
    site = {
        "features": [
            {"name": "Editor", "issued": 5},
            {"name": "desktopAdvN", "issued": 0, "error": "Error: 48 licenses, unsupported"},
        ],
        "sessions": [
            {"feature": "Editor", "username": "a<b>&c", "workstation": "WS-1",
             "start": dt.datetime(2020, 1, 2, 8, 0), "pid": 4411},
        ],
    }  # fmt: skip
    with LicenseManagerSandbox(now=NOW, site=site) as sandbox:
        yield sandbox


def test_sessions_features_and_log_events_have_openlms_notebook_view(
    lm: LicenseManagerSandbox,
) -> None:
    flexnet = gislicense.FlexNet(lm.server, lmutil=lm.lmutil_path)
    (session,) = flexnet.get_active_products()
    view = session._repr_html_()
    assert view.startswith("<div><b>Session of a&lt;b&gt;&amp;c on WS-1</b><table>")
    assert "<b>" not in view.replace("<b>Session", "")  # the user name is escaped
    assert "<th style='text-align:left'>handle</th>" in view and "4411" in view
    features = {f.name: f._repr_html_() for f in flexnet.get_features()}
    assert "<b>Feature Editor</b>" in features["Editor"] and ">5</td>" in features["Editor"]
    assert "unsupported" in features["desktopAdvN"]
    (event,) = [e for e in gislicense.parse_lmgrd_log(lm.log_path) if e.kind == "OUT"]
    assert event._repr_html_().startswith("<div><b>OUT Editor</b><table>")
    assert flexnet._repr_html_().startswith("<div><b>ArcGIS License Manager</b>")
    assert lm.server in flexnet._repr_html_()


def test_tables_read_the_servers_clock_as_local_time_and_type_the_counts(
    lm: LicenseManagerSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pd = pytest.importorskip("pandas")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        flexnet = gislicense.FlexNet(lm.server, lmutil=lm.lmutil_path)
        sessions = gislicense.to_dataframe(flexnet.get_active_products())
        # 08:00 on the server's (this machine's) clock, New York in January: 13:00 UTC.
        assert sessions.start_time[0] == pd.Timestamp("2020-01-02 13:00", tz="UTC")
        assert str(sessions.pid.dtype) == "Int64" and sessions.pid[0] == 4411
        features = gislicense.to_dataframe(flexnet.get_features()).set_index("name")
        assert str(features.issued.dtype) == str(features.free.dtype) == "Int64"
        assert features.issued["Editor"] == 5 and features.issued.isna()["desktopAdvN"]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
