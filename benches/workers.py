"""One contender of one benchmark, run in its own process so its memory is its own.

    python benches/workers.py parse <etree|lxml|gislicense> FILE REPEATS
    python benches/workers.py close <seed|gislicense> OPENLM_URL
    python benches/workers.py list <sequential|official|aiohttp|gislicense> PORTAL.json
    python benches/workers.py change <sequential|official|gislicense> PORTAL.json NAMES.json

PORTAL.json holds the sandbox portal's url, ca_file, username and password. The "official"
contender runs in a Python that has the official ArcGIS API for Python (arcgis); the
"aiohttp" contender needs aiohttp and orjson.

Prints one JSON object: the times of the runs in seconds, and for parsing the peak memory
the first run added (bytes), and how many rows it read.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
import urllib.request
from typing import Any, Callable

# ---------------------------------------------------------------------------------------------
# Reading a GetActiveProducts reply into Python objects


def parse_etree(data: bytes) -> list[Any]:
    """What the OpenLM seed script does: ElementTree, iter('PRODUCT'), attrib.get."""
    from xml.etree.ElementTree import ElementTree, fromstring

    tree = ElementTree(fromstring(data))
    rows = []
    for node in tree.iter("PRODUCT"):
        rows.append(
            (
                node.attrib.get("product"),
                node.attrib.get("username"),
                node.attrib.get("workstation"),
            )
        )
    return rows


def parse_lxml(data: bytes) -> list[Any]:
    from lxml import etree

    root = etree.fromstring(data, parser=etree.XMLParser(huge_tree=True))
    rows = []
    for node in root.iter("PRODUCT"):
        rows.append(
            (
                node.attrib.get("product"),
                node.attrib.get("username"),
                node.attrib.get("workstation"),
            )
        )
    return rows


def parse_gislicense(data: bytes) -> list[Any]:
    import gislicense

    products = gislicense.parse_active_products(data)
    # Read the same three fields the others read, so every contender does the same work.
    for p in products:
        p.product, p.username, p.workstation  # noqa: B018
    return products


PARSERS: dict[str, Callable[[bytes], list[Any]]] = {
    "etree": parse_etree,
    "lxml": parse_lxml,
    "gislicense": parse_gislicense,
}


def peak_rss_bytes() -> int:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: a child keeps its
    parent's peak in it across exec, so a worker of a big benchmark process would report
    the parent's peak."""
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        # Elsewhere ru_maxrss is in KiB on Linux, bytes on macOS; KiB is assumed.
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_parse(contender: str, path: str, repeats: int) -> dict[str, Any]:
    parse = PARSERS[contender]
    with open(path, "rb") as f:
        data = f.read()
    if contender == "gislicense":
        import gislicense  # noqa: F401  (imported before the baseline, as for the others)
    elif contender == "lxml":
        import lxml.etree  # noqa: F401
    else:
        import xml.etree.ElementTree  # noqa: F401
    gc.collect()
    baseline = peak_rss_bytes()
    start = time.perf_counter()
    rows = parse(data)
    times = [time.perf_counter() - start]
    peak = peak_rss_bytes() - baseline
    count = len(rows)
    del rows
    for _ in range(repeats - 1):
        gc.collect()
        start = time.perf_counter()
        rows = parse(data)
        times.append(time.perf_counter() - start)
        del rows
    return {"times": times, "peak_bytes": peak, "rows": count}


# ---------------------------------------------------------------------------------------------
# Closing sessions


# Built with %s, exactly as the seed script builds it.
SEED_CLOSE_APPLICATION = (
    '<ULM><MESSAGE type="CloseApplication" /><PARAMETERS>'
    '<PARAM name="username">%s</PARAM><PARAM name="workstation">%s</PARAM>'
    '<PARAM name="server">%s</PARAM><PARAM name="vendor">%s</PARAM>'
    '<PARAM name="feature">%s</PARAM></PARAMETERS></ULM>'
)


def close_seed(url: str) -> int:
    """The seed script's way: list, then one urllib CloseApplication after another."""
    from xml.etree.ElementTree import ElementTree, fromstring

    listing = b'<ULM><MESSAGE type="GetActiveProducts" /><SESSION sessionid="0" /></ULM>'
    request = urllib.request.Request(
        url=url, data=listing, headers={"Content-Type": "application/xml"}
    )
    with urllib.request.urlopen(request) as response:
        tree = ElementTree(fromstring(response.read()))
    sent = 0
    for node in tree.iter("PRODUCT"):
        command = SEED_CLOSE_APPLICATION % (
            node.attrib.get("username"),
            node.attrib.get("workstation"),
            node.attrib.get("server_name"),
            node.attrib.get("vendor"),
            node.attrib.get("feature"),
        )
        close = urllib.request.Request(
            url=url, data=command.encode(), headers={"Content-Type": "application/xml"}
        )
        with urllib.request.urlopen(close) as response:
            response.read()
        sent += 1
    return sent


def close_gislicense(openlm: Any) -> int:
    # Every open session, on purpose: without allow_all the plan refuses it as an accident.
    report = openlm.close_applications(openlm.get_active_products(), allow_all=True)
    return len(report)


def run_close(contender: str, url: str) -> dict[str, Any]:
    """The listing and the closes; making the client is not timed (as signing in is not for
    the portal contenders, and as the floor's client is made before its clock starts):
    `import gislicense` and its first use are a benchmark of their own."""
    if contender == "seed":
        start = time.perf_counter()
        sent = close_seed(url)
    else:
        import gislicense

        openlm = gislicense.OpenLM(url)
        start = time.perf_counter()
        sent = close_gislicense(openlm)
    return {"times": [time.perf_counter() - start], "rows": sent}


# ---------------------------------------------------------------------------------------------
# Portal: listing members and changing user types


class Urllib:
    """The sharing API by hand, one request after another, as the official client pages."""

    def __init__(self, portal: dict[str, str]) -> None:
        import ssl

        self.portal = portal["url"]
        self.context = ssl.create_default_context(cafile=portal["ca_file"])
        reply = self.post(
            "generateToken",
            username=portal["username"],
            password=portal["password"],
            client="referer",
            referer="bench",
        )
        self.token = reply["token"]

    def post(self, path: str, root: str = "sharing/rest", **fields: str) -> dict[str, Any]:
        import urllib.parse

        fields = {**fields, "f": "json"}
        if getattr(self, "token", None):
            fields["token"] = self.token
        request = urllib.request.Request(
            f"{self.portal}/{root}/{path}",
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Referer": "bench"},
        )
        with urllib.request.urlopen(request, context=self.context) as reply:
            result: dict[str, Any] = json.loads(reply.read())
        if "error" in result or result.get("status") == "error":
            raise RuntimeError(result)
        return result


def official_gis(portal: dict[str, str]) -> Any:
    import os

    os.environ["REQUESTS_CA_BUNDLE"] = os.environ["SSL_CERT_FILE"] = portal["ca_file"]
    from arcgis.gis import GIS

    return GIS(portal["url"], portal["username"], portal["password"], use_gen_token=True)


def gislicense_gis(portal: dict[str, str]) -> Any:
    import gislicense

    gis = gislicense.GIS(
        portal["url"], portal["username"], portal["password"], ca_bundle=portal["ca_file"]
    )
    gis.sign_in()
    return gis


async def aiohttp_list(
    portal: dict[str, str], concurrency: int = 25
) -> tuple[list[Any], float, float]:
    """A plain pure-Python client, well written: aiohttp and orjson, the first page for the
    total, then every other page at once, `concurrency` in flight, kept in order. The
    members, and the listing's time and CPU time (signing in is not counted)."""
    import asyncio
    import ssl

    import aiohttp
    import orjson

    context = ssl.create_default_context(cafile=portal["ca_file"])
    url = portal["url"]
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context, limit=concurrency),
        headers={"Referer": "bench"},
    ) as session:

        async def post(path: str, **fields: str) -> Any:
            form = {**fields, "f": "json"}
            async with session.post(f"{url}/sharing/rest/{path}", data=form) as r:
                reply = orjson.loads(await r.read())
            if "error" in reply:
                raise RuntimeError(reply)
            return reply

        token = (
            await post(
                "generateToken",
                username=portal["username"],
                password=portal["password"],
                client="referer",
                referer="bench",
            )
        )["token"]
        cpu = time.process_time()
        start = time.perf_counter()
        listing = "portals/self/users"
        first = await post(listing, start="1", num="100", token=token)
        users: list[Any] = first["users"]
        slots = asyncio.Semaphore(concurrency)

        async def page(at: int) -> list[Any]:
            async with slots:
                reply = await post(listing, start=str(at), num="100", token=token)
            return reply["users"]  # type: ignore[no-any-return]

        for rest in await asyncio.gather(*(page(at) for at in range(101, first["total"] + 1, 100))):
            users += rest
        return users, time.perf_counter() - start, time.process_time() - cpu


def run_list(contender: str, portal: dict[str, str]) -> dict[str, Any]:
    """Every member of the organization; signing in is not timed. Peak memory is the
    process's (the listing dominates it at 50,000 members), CPU time the client's."""
    if contender == "aiohttp":
        import asyncio

        users, took, cpu = asyncio.run(aiohttp_list(portal))
        return {"times": [took], "rows": len(users), "peak": peak_rss_bytes(), "cpu": cpu}
    if contender == "sequential":
        api = Urllib(portal)
        cpu = time.process_time()
        start = time.perf_counter()
        users: list[Any] = []
        next_start = 1
        while next_start > 0:
            page = api.post("portals/self/users", start=str(next_start), num="100")
            users += page["users"]
            next_start = page["nextStart"]
    elif contender == "official":
        gis = official_gis(portal)
        cpu = time.process_time()
        start = time.perf_counter()
        users = gis.users.search(max_users=1_000_000)
    else:
        gis = gislicense_gis(portal)
        cpu = time.process_time()
        start = time.perf_counter()
        users = gis.users.search()
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak = peak_rss_bytes()
        # A member's fields are read from its text on first use: reading every member's,
        # timed apart, is what a caller who uses them all spends after the listing.
        start = time.perf_counter()
        for user in users:
            user.raw  # noqa: B018
        read = time.perf_counter() - start
        return {
            "times": [took],
            "rows": len(users),
            "peak": peak,
            "cpu": cpu,
            "read": [read],
            "peak_read": peak_rss_bytes(),
        }
    took = time.perf_counter() - start
    return {
        "times": [took],
        "rows": len(users),
        "peak": peak_rss_bytes(),
        "cpu": time.process_time() - cpu,
    }


def run_change(contender: str, portal: dict[str, str], names: list[str]) -> dict[str, Any]:
    """Change the user type of every member named to Creator; signing in is not timed."""
    changed = 0
    if contender == "sequential":
        api = Urllib(portal)
        start = time.perf_counter()
        for name in names:
            reply = api.post(
                "portals/self/updateUserLicenseType",
                users=json.dumps([name]),
                userLicenseType="creatorUT",
            )
            changed += all(r["status"] for r in reply["results"])
    elif contender == "official":
        gis = official_gis(portal)
        wanted = set(names)
        users = [u for u in gis.users.search(max_users=1_000_000) if u.username in wanted]
        start = time.perf_counter()
        for user in users:
            changed += user.update_license_type("creatorUT") is True
    else:
        gis = gislicense_gis(portal)
        start = time.perf_counter()
        report = gis.users.update_license_type(names, "creatorUT")
        changed = report.counts().get("changed", 0)
    return {"times": [time.perf_counter() - start], "rows": changed}


def run_release(contender: str, portal: dict[str, str], names: list[str]) -> dict[str, Any]:
    """Release the offline ArcGIS Pro license of every member named; signing in is not timed.
    The official client has no contender here: its classic release sends no username."""
    released = 0
    if contender == "sequential":
        api = Urllib(portal)
        start = time.perf_counter()
        for name in names:
            reply = api.post(
                "license/releaseLicense",
                root="portaladmin",
                username=name,
                appId="arcgisprodesktop",
            )
            released += reply.get("status") == "success"
    else:
        gis = gislicense_gis(portal)
        start = time.perf_counter()
        report = gis.admin.license.release_many(names)
        released = report.counts().get("released", 0)
    return {"times": [time.perf_counter() - start], "rows": released}


def main() -> None:
    kind, contender = sys.argv[1], sys.argv[2]
    if kind == "parse":
        result = run_parse(contender, sys.argv[3], int(sys.argv[4]))
    elif kind == "close":
        result = run_close(contender, sys.argv[3])
    else:
        with open(sys.argv[3]) as f:
            portal = json.load(f)
        if kind == "list":
            result = run_list(contender, portal)
        else:
            with open(sys.argv[4]) as f:
                names = json.load(f)
            run = run_change if kind == "change" else run_release
            result = run(contender, portal, names)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
