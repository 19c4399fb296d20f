# -*- coding: utf-8 -*-
"""gislicense for ArcGIS Pro: close idle OpenLM sessions, change user types and roles,
assign and release ArcGIS Pro licenses, undo a run, report who holds what, and report
the usage history (peaks against what was bought, denials, idle holders).

Every tool plans first: with Apply unchecked it lists what would be done and changes
nothing. The tools live in the installed gislicense package (gislicense.toolbox.tools);
this file only declares the toolbox, so upgrading gislicense upgrades the tools.
"""

from gislicense.toolbox.tools import (
    AssignProLicenses,
    ChangeRoles,
    ChangeUserTypes,
    CloseSessions,
    LicenseReport,
    ReleaseOfflineLicenses,
    UndoJournal,
    UsageReport,
)


class Toolbox:
    def __init__(self):
        self.label = "gislicense"
        self.alias = "gislicense"
        self.tools = [
            CloseSessions,
            ChangeUserTypes,
            ChangeRoles,
            AssignProLicenses,
            ReleaseOfflineLicenses,
            UndoJournal,
            LicenseReport,
            UsageReport,
        ]
