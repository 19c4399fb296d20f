"""A month of license use, recorded and reported: are we using what we pay for?

Plays four weeks of a simulated site (gislicense.history.simulate) as a scheduler would
record it, every 15 minutes, with the license server's denials and the portal's members,
then prints the right-size summary and writes the one-page HTML report.

    python examples/usage_history.py                        # into a temporary folder
    python examples/usage_history.py --out reports          # keep the history and the page
    python examples/usage_history.py --pictures docs/images # also the documentation's PNGs

Against your own servers, the recording is `gislicense usage record --profile lm` run by
a scheduler (see the guide's "Usage history"); the reports are the same.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from gislicense.history import History
from gislicense.history.simulate import SimulatedSite


def record_month(path: Path) -> tuple[SimulatedSite, History]:
    site = SimulatedSite(seed=7, days=28, people=40)
    history = History(path)
    for at in site.poll_times(minutes=15):
        history.record(site.openlm_at(at), at=at)
    for feature, bought in site.issued.items():
        history.set_issued(feature, bought)
    history.import_log([e for e in site.log_events() if e.kind == "DENIED"], source="lmgrd")
    history.record(site.portal_at(), at=site.end)
    return site, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the history and the page")
    parser.add_argument("--pictures", type=Path, help="also write the charts as PNG here")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="usage-"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "usage.sqlite").unlink(missing_ok=True)
    site, history = record_month(out / "usage.sqlite")
    with history:
        print(f"{len(site.sessions)} sessions and {len(site.denials)} denials in 28 days\n")
        print(f"{'feature':<28}{'bought':>7}{'peak':>6}{'p95':>5}{'denied':>8}  advice")
        for row in history.rows("right_size", at=site.end):
            bought = "" if row["issued"] is None else row["issued"]
            p95 = "" if row["p95"] is None else row["p95"]
            print(
                f"{row['feature']:<28}{bought:>7}{row['peak']:>6}{p95:>5}"
                f"{row['denials']:>8}  {row['advice']}"
            )
        page = history.report_html(out / "usage.html", at=site.end)
        print(f"\nThe page: {page}")
        if args.pictures:
            args.pictures.mkdir(parents=True, exist_ok=True)
            history.plot_use("Editor").savefig(args.pictures / "usage-editor.png", dpi=80)
            history.plot_heatmap().savefig(args.pictures / "usage-heatmap.png", dpi=80)
            history.plot_denials("day").savefig(args.pictures / "usage-denials.png", dpi=80)
            print(f"The pictures: {args.pictures}")


if __name__ == "__main__":
    main()
