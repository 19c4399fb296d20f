"""A simulated site over weeks, with known truth: the sandbox playing time.

:class:`SimulatedSite` makes, from a seed, the people of a site and what they do: sessions
that start and end through the working day (Monday to Friday), left idle over lunch and in
the afternoon, denials when a feature's licenses are all taken, and portal members of each
user type, some of them idle for months. It answers as the servers would at any moment:
:meth:`SimulatedSite.openlm_at` is an OpenLM server's listing at that time,
:meth:`SimulatedSite.portal_at` a portal's members, :meth:`SimulatedSite.log_events` a
license server's log. Its ``truth_*`` methods say what the reports must find, so tests
check a recorded history against it, and the documentation's pictures are made from it::

    site = SimulatedSite(seed=7, days=28)
    with History("site.sqlite") as history:
        for when in site.poll_times(minutes=15):
            history.record(site.openlm_at(when), at=when)
"""

from __future__ import annotations

import datetime as _dt
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Features of the simulated license server and how many of each were bought.
FEATURES = {"ARC/INFO": 6, "Editor": 10, "Viewer": 25, "Spatial": 3}
_SERVER = "arcgis-lm"
_HOUR = 3600


@dataclass(frozen=True)
class SimSession:
    """A session as an OpenLM listing reports it (the fields the history reads)."""

    feature: str
    username: str
    workstation: str
    server: str
    handle: str
    start_time: _dt.datetime
    end: int
    idle_from: int
    licenses: int = 1
    vendor: str = "ARCGIS"

    def idle_at(self, at: int) -> _dt.timedelta:
        return _dt.timedelta(seconds=max(0, at - self.idle_from))


@dataclass(frozen=True)
class SimEvent:
    """A license server log event, as ``gislicense.parse_lmgrd_log`` yields them."""

    time: _dt.datetime
    kind: str
    feature: str
    user: str
    workstation: str
    reason: str | None = None
    licenses: int = 1
    raw: str = ""


@dataclass
class SimMember:
    username: str
    user_type: str
    role: str
    last_login: _dt.datetime | None
    entitlements: list[str] = field(default_factory=list)
    last_use: _dt.datetime | None = None


class _Listing:
    """An OpenLM server at one moment: what ``get_active_products()`` would answer."""

    url = "http://simulated:7014/OpenLMServer"

    def __init__(self, sessions: list[SimSession], at: int) -> None:
        self._sessions, self._at = sessions, at

    def get_active_products(self) -> list[Any]:
        from types import SimpleNamespace

        return [
            SimpleNamespace(
                **{k: getattr(s, k) for k in ("feature", "username", "workstation", "server")},
                handle=s.handle,
                start_time=s.start_time,
                licenses=s.licenses,
                idle_time=s.idle_at(self._at),
            )
            for s in self._sessions
        ]


class _Portal:
    """A portal at one moment, as far as the history reads one."""

    url = "https://simulated/portal"

    def __init__(self, members: list[SimMember], seats: dict[str, int]) -> None:
        from types import SimpleNamespace

        self._members = members
        user_types = [
            SimpleNamespace(id=t, name=t, maximum=n, in_use=None) for t, n in seats.items()
        ]
        holders = [
            SimpleNamespace(username=m.username, entitlements=m.entitlements, last_login=m.last_use)
            for m in members
            if m.entitlements
        ]
        pro = SimpleNamespace(title="ArcGIS Pro", users=lambda: holders)
        self.users = SimpleNamespace(
            search=lambda: [
                SimpleNamespace(
                    username=m.username,
                    user_type=m.user_type,
                    role=m.role,
                    last_login=m.last_login,
                    disabled=False,
                )
                for m in members
            ],
            license_types=user_types,
        )
        self.admin = SimpleNamespace(license=SimpleNamespace(all=lambda: [pro]))


class SimulatedSite:
    """A site over ``days`` days from ``start`` (midnight, local time, a Monday by
    default: four weeks ago), made from ``seed``.

    Attributes:
        sessions: Every session, with its times.
        denials: Every check-out refused because the feature's licenses were all taken.
        members: The portal's members, as they are at the end.
        issued: Licenses bought per feature.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        days: int = 28,
        people: int = 40,
        members: int = 60,
        start: _dt.datetime | None = None,
        issued: dict[str, int] | None = None,
    ) -> None:
        self.random = random.Random(seed)
        if start is None:
            today = _dt.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
            start = today - _dt.timedelta(days=today.weekday() + 7 * ((days + 6) // 7))
        self.start = int(start.timestamp())
        self.end = int((start + _dt.timedelta(days=days)).timestamp())
        self.issued = dict(issued or FEATURES)
        self.people = [f"user{n:03d}" for n in range(people)]
        self.sessions: list[SimSession] = []
        self.denials: list[SimEvent] = []
        for day in range(days):
            midnight = start + _dt.timedelta(days=day)
            if midnight.weekday() < 5:
                self._working_day(int(midnight.timestamp()))
        self.members = self._members(members)

    # The simulation

    def _working_day(self, midnight: int) -> None:
        """Everyone at work takes a feature in the morning, some another after lunch;
        a check-out when all are taken is a denial."""
        wanted = []
        for n, person in enumerate(self.people):
            if self.random.random() < 0.85:
                arrive = midnight + 8 * _HOUR + self.random.randrange(0, 2 * _HOUR, 60)
                leave = arrive + self.random.randrange(3 * _HOUR, 9 * _HOUR, 60)
                wanted.append((arrive, min(leave, midnight + 20 * _HOUR), person, n))
            if self.random.random() < 0.3:
                after = midnight + 13 * _HOUR + self.random.randrange(0, 2 * _HOUR, 60)
                wanted.append(
                    (after, after + self.random.randrange(_HOUR, 3 * _HOUR, 60), person, n)
                )
        wanted.sort()
        holding: dict[str, list[int]] = defaultdict(list)
        for begin, end, person, n in wanted:
            feature = self.random.choices(list(self.issued), weights=[3, 4, 6, 1])[0]
            held = [e for e in holding[feature] if e > begin]
            holding[feature] = held
            host = f"ws-{n:03d}"
            if len(held) >= self.issued[feature]:
                self.denials.append(_event(begin, "DENIED", feature, person, host, "all in use"))
                continue
            held.append(end)
            idle_from = begin + self.random.randrange(_HOUR // 2, max(_HOUR, end - begin), 60)
            self.sessions.append(
                SimSession(
                    feature,
                    person,
                    host,
                    _SERVER,
                    f"{begin}-{n}",
                    _dt.datetime.fromtimestamp(begin, _dt.timezone.utc),
                    end,
                    idle_from,
                )
            )

    def _members(self, count: int) -> list[SimMember]:
        end = _dt.datetime.fromtimestamp(self.end, _dt.timezone.utc)
        kinds = ["creator", "creator", "GISProfessionalAdvUT", "viewer", "mobileWorkerUT"]
        made = []
        for n in range(count):
            kind = kinds[n % len(kinds)]
            # Every fourth member has been away for months; one in ten never signed in.
            if n % 10 == 9:
                login = None
            elif n % 4 == 3:
                login = end - _dt.timedelta(days=120 + n)
            else:
                login = end - _dt.timedelta(days=n % 20, hours=3)
            member = SimMember(f"member{n:03d}", kind, "org_user", login)
            if kind == "GISProfessionalAdvUT":
                member.entitlements = ["desktopAdvN", "spatialAnalystN"]
                member.last_use = login
            made.append(member)
        return made

    # What the servers answer

    def poll_times(self, minutes: int = 15) -> Iterator[int]:
        """Times every ``minutes`` from the start to the end (a scheduler's runs)."""
        return iter(range(self.start, self.end, minutes * 60))

    def open_at(self, at: int) -> list[SimSession]:
        return [s for s in self.sessions if int(s.start_time.timestamp()) <= at < s.end]

    def openlm_at(self, at: int) -> _Listing:
        """An OpenLM server's listing at ``at`` (for ``History.record``)."""
        return _Listing(self.open_at(at), at)

    def portal_at(self, at: int | None = None) -> _Portal:
        """The portal's members (as at the end of the simulation)."""
        seats = {"creator": 30, "GISProfessionalAdvUT": 15, "viewer": 20, "mobileWorkerUT": 20}
        return _Portal(self.members, seats)

    def log_events(self) -> list[SimEvent]:
        """The license server's log: check-outs, check-ins and denials, in time order."""
        events = list(self.denials)
        for s in self.sessions:
            begun = int(s.start_time.timestamp())
            events.append(_event(begun, "OUT", s.feature, s.username, s.workstation))
            events.append(_event(s.end, "IN", s.feature, s.username, s.workstation))
        return sorted(events, key=lambda e: (e.time, e.kind != "IN"))

    # The truth reports are checked against

    def truth_peaks(self, times: list[int]) -> dict[tuple[str, str], int]:
        """Per (day, feature), the most in use at any of ``times`` (local days)."""
        peaks: dict[tuple[str, str], int] = defaultdict(int)
        for at in times:
            day = _dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d")
            counts: dict[str, int] = defaultdict(int)
            for s in self.open_at(at):
                counts[s.feature] += s.licenses
            for feature in self.issued:
                peaks[(day, feature)] = max(peaks[(day, feature)], counts[feature])
        return dict(peaks)

    def truth_denials(self) -> dict[tuple[str, str], int]:
        """Per (day, feature), the denials."""
        found: dict[tuple[str, str], int] = defaultdict(int)
        for event in self.denials:
            found[(event.time.strftime("%Y-%m-%d"), event.feature)] += 1
        return dict(found)

    def truth_idle_members(self, days: int) -> set[str]:
        """Members who have not signed in for ``days`` at the end (or never)."""
        end = _dt.datetime.fromtimestamp(self.end, _dt.timezone.utc)
        return {
            m.username
            for m in self.members
            if m.last_login is None or (end - m.last_login).days >= days
        }


def _event(
    at: int, kind: str, feature: str, user: str, host: str, reason: str | None = None
) -> SimEvent:
    time = _dt.datetime.fromtimestamp(at)  # naive local, as a log has it
    raw = f'{time:%H:%M:%S} (ARCGIS) {kind}: "{feature}" {user}@{host}'
    return SimEvent(time, kind, feature, user, host, reason, 1, raw)
