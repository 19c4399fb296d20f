"""One contender of one benchmark, run in its own process so its memory is its own.

    python benches/workers.py parse <etree|lxml|gislicense> FILE REPEATS
    python benches/workers.py close <seed|gislicense> OPENLM_URL

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
    # Linux reports ru_maxrss in KiB.
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


def close_gislicense(url: str) -> int:
    import gislicense

    openlm = gislicense.OpenLM(url)
    report = openlm.close_applications(openlm.get_active_products())
    return len(report)


def run_close(contender: str, url: str) -> dict[str, Any]:
    close = close_seed if contender == "seed" else close_gislicense
    start = time.perf_counter()
    sent = close(url)
    return {"times": [time.perf_counter() - start], "rows": sent}


def main() -> None:
    kind, contender = sys.argv[1], sys.argv[2]
    if kind == "parse":
        result = run_parse(contender, sys.argv[3], int(sys.argv[4]))
    else:
        result = run_close(contender, sys.argv[3])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
