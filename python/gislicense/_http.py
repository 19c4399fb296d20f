"""HTTP options shared by every client: one place for defaults, checks and the insecure warning."""

from __future__ import annotations

import os

from gislicense import _core
from gislicense._text import check_seconds, check_whole
from gislicense.exceptions import InvalidInputError

DEFAULT_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 0.2
#: 256 MiB: far more than any real reply, far less than what would exhaust memory.
DEFAULT_MAX_REPLY_BYTES = 256 * 1024 * 1024


class InsecureConnectionWarning(UserWarning):
    """TLS certificate verification was turned off with ``verify=False``."""


def http_options(
    *,
    timeout: float,
    connect_timeout: float,
    verify: bool,
    ca_bundle: str | os.PathLike[str] | None,
    retries: int,
    backoff: float,
    retry_writes: bool,
    max_reply_bytes: int,
    cert_file: str | os.PathLike[str] | None = None,
    key_file: str | os.PathLike[str] | None = None,
    cert_password: str | None = None,
) -> _core.HttpOptions:
    check_seconds(timeout=timeout, connect_timeout=connect_timeout, backoff=backoff)
    check_whole(retries=retries)
    if (
        isinstance(max_reply_bytes, bool)
        or not isinstance(max_reply_bytes, int)
        or not 1024 <= max_reply_bytes <= 2**48
    ):
        raise InvalidInputError(
            f"max_reply_bytes must be a whole number of bytes from 1024 to 2**48, "
            f"not {max_reply_bytes!r}"
        )
    if not verify:
        import warnings  # here: not loaded when Python starts, and rarely needed

        warnings.warn(
            "verify=False: TLS certificates are not checked, so anyone on the network path can "
            "read and change this traffic, tokens and passwords included. Pass ca_bundle= with "
            "your organization's CA file instead.",
            InsecureConnectionWarning,
            stacklevel=3,
        )
    return _core.HttpOptions(
        {
            "timeout": timeout,
            "connect_timeout": connect_timeout,
            "verify": verify,
            "ca_bundle": os.fspath(ca_bundle) if ca_bundle is not None else None,
            "retries": retries,
            "backoff": backoff,
            "retry_writes": retry_writes,
            "max_reply_bytes": max_reply_bytes,
            "cert_file": os.fspath(cert_file) if cert_file is not None else None,
            "key_file": os.fspath(key_file) if key_file is not None else None,
            "cert_password": cert_password,
        }
    )
