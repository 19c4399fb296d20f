"""A command run's context: where its output goes, and the servers it opens (the sandbox, a
saved profile, or --url and --username)."""

from __future__ import annotations

import os
import sys

from gislicense.cli.common import PASSWORD_VARIABLE, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, TextIO

    from gislicense import GIS, OpenLM, Sandbox
    from gislicense.flexnet import FlexNet


class Context:
    """What a command run shares: where output goes, and the servers it opened."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sandbox: Sandbox | None = None
        self._stream: TextIO | None = None
        #: Whether an interruption was explained already (with the journal to resume).
        self.interrupted_said = False

    @property
    def form(self) -> str:
        return getattr(self.args, "form", None) or "table"

    def say(self, text: str) -> None:
        """A line for the person at the terminal (stderr): summaries, hints, notes."""
        if not getattr(self.args, "quiet", False):
            print(text, file=sys.stderr, flush=True)

    def rows(
        self,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[str],
        all_columns: Sequence[str] | None = None,
    ) -> None:
        from gislicense import _output

        _output.write(rows, columns, form=self.form, stream=self.stream, all_columns=all_columns)

    @property
    def stream(self) -> TextIO:
        if self._stream is None:
            output = getattr(self.args, "output", None)
            if output:
                from gislicense._folders import open_private

                try:
                    self._stream = open_private(output, newline="")
                except OSError as err:
                    raise UsageError(f"cannot write {output}: {err.strerror}") from None
            else:
                self._stream = sys.stdout
        return self._stream

    def close(self) -> None:
        if self._stream is not None and self._stream is not sys.stdout:
            self._stream.close()
        if self.sandbox is not None:
            self.sandbox.stop()

    # Servers

    def _started_sandbox(self) -> Sandbox:
        if self.sandbox is None:
            from gislicense import Sandbox

            self.sandbox = Sandbox()
            self.say("Using a fresh built-in sandbox; changes made to it are forgotten on exit.")
        return self.sandbox

    def _password(self) -> str | None:
        """The password for --username; none without one (an OpenLM server that wants no
        login is not sent the portal's password)."""
        if not self.args.username:
            return None
        password = os.environ.get(PASSWORD_VARIABLE)
        if password:
            return password
        if not sys.stdin.isatty():
            raise UsageError(
                f"--username was given but no password: set {PASSWORD_VARIABLE} (there is no "
                "terminal to ask on)"
            )
        return None

    def _given(self, kind: str) -> dict[str, Any]:
        """The connection options given on the command line (they win over a profile's)."""
        given: dict[str, Any] = {}
        for option in ("url", "username", "ca_bundle", "timeout"):
            value = getattr(self.args, option)
            if value is not None:
                given[option] = value
        if self.args.insecure_http and kind == "portal":
            given["allow_insecure_http"] = True
        close_wait = getattr(self.args, "close_wait", None)
        if close_wait is not None and kind == "openlm":
            given["close_wait"] = close_wait
        return given

    def _with_profile(self, kind: str) -> dict[str, Any]:
        """What the command line adds to a profile: another user signs in with the
        password of the command line's own sources."""
        given = self._given(kind)
        if "username" in given:
            given["password"] = self._password()
        return given

    def profile_names(self, kind: str, *, also: str | None = None) -> list[str]:
        """The saved profiles this run names (--profile, --all-profiles); with ``also``,
        --all-profiles takes that kind's profiles too."""
        from gislicense import profiles

        if self.args.all_profiles:
            kinds = {kind, also} - {None}
            names = [p.name for p in profiles.all_profiles() if p.kind in kinds]
            if not names:
                server = {"portal": "portal", "flexnet": "License Manager"}.get(
                    kind, "OpenLM server"
                )
                raise UsageError(f"no {server} is saved as a profile (gislicense profile add)")
            return names
        return list(self.args.profile or [])

    def kind_of(self, name: str, kind: str) -> str:
        """A License Manager profile's kind where the command reads those too; else ``kind``."""
        from gislicense import profiles

        return "flexnet" if profiles.load(name).kind == "flexnet" else kind

    def _one_profile(self, kind: str) -> str | None:
        names = self.profile_names(kind)
        if len(names) > 1:
            raise UsageError("this command goes to one server: name one --profile")
        return names[0] if names else None

    def _check_profile(self, name: str, kind: str) -> None:
        """Stop early, in words, when a profile is for the other kind of server, or its
        password cannot be found or asked for."""
        from gislicense import profiles

        profile = profiles.load(name)
        if profile.kind != kind:
            server, commands = {
                "openlm": ("an OpenLM server", "sessions"),
                "flexnet": ("a License Manager", "sessions"),
                "portal": ("a portal", "users and licenses"),
            }[profile.kind]
            raise UsageError(
                f"the profile {name!r} is for {server}: use it with the {commands} commands"
            )
        signs_in = profile.username is not None and self.args.username in (None, profile.username)
        if signs_in and profile.password() is None and not sys.stdin.isatty():
            raise UsageError(
                f"no password for the profile {name!r}: set {profiles.password_variable(name)} "
                f"(or {PASSWORD_VARIABLE}), or store it in the system keyring with "
                f"`gislicense profile add {name} ... --store-password`"
            )

    def _no_target(self, what: str) -> UsageError:
        return UsageError(
            f"name the {what} with --url (and --username) or a saved --profile "
            "(gislicense profile add), or try the command on the built-in sandbox with --sandbox"
        )

    def client(self, kind: str, profile: str | None = None) -> Any:
        if kind == "flexnet":
            return self.flexnet(profile=profile)
        return self.portal(profile=profile) if kind == "portal" else self.openlm(profile=profile)

    def flexnet(self, profile: str | None = None) -> FlexNet:
        """The License Manager to use: --flexnet PORT@HOST (with --lmutil), or a profile of
        kind flexnet."""
        from gislicense.flexnet import FlexNet

        lmutil = getattr(self.args, "lmutil", None)
        server = getattr(self.args, "flexnet", None)
        timeout = self.args.timeout
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        if server:
            return FlexNet(server, lmutil=lmutil, **extra)
        profile = profile or self._one_profile("flexnet")
        if profile is None:
            raise UsageError("name the License Manager with --flexnet PORT@HOST or a --profile")
        self._check_profile(profile, "flexnet")
        return FlexNet(profile=profile, lmutil=lmutil, **extra)

    def portal(self, url: str | None = None, profile: str | None = None) -> GIS:
        """The portal to use: the sandbox, a profile, --url, or ``url`` (a plan's)."""
        from gislicense import GIS

        if self.args.sandbox:
            sandbox = self._started_sandbox()
            return GIS(
                sandbox.portal_url,
                sandbox.admin_username,
                sandbox.admin_password,
                ca_bundle=sandbox.ca_file,
            )
        profile = profile or self._one_profile("portal")
        if profile is not None:
            self._check_profile(profile, "portal")
            return GIS(profile=profile, **self._with_profile("portal"))
        given = self._given("portal")
        url = given.pop("url", None) or url
        if not url:
            raise self._no_target("portal")
        return GIS(url, password=self._password(), **given)

    def openlm(self, url: str | None = None, profile: str | None = None) -> OpenLM:
        """The OpenLM server to use: the sandbox, a profile, --url, or ``url``."""
        from gislicense import OpenLM

        if self.args.sandbox:
            close_wait = self._given("openlm").get("close_wait", 30.0)
            return OpenLM(self._started_sandbox().openlm_url, close_wait=close_wait)
        profile = profile or self._one_profile("openlm")
        if profile is not None:
            self._check_profile(profile, "openlm")
            return OpenLM(profile=profile, **self._with_profile("openlm"))
        given = self._given("openlm")
        url = given.pop("url", None) or url
        if not url:
            raise self._no_target("OpenLM server")
        return OpenLM(url, password=self._password(), **given)
