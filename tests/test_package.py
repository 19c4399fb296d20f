"""The package surface: exceptions, version, typing."""

from __future__ import annotations

from pathlib import Path

import gislicense
from gislicense import exceptions


def test_every_error_is_a_gislicense_error() -> None:
    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), gislicense.GisLicenseError)
    assert issubclass(gislicense.InvalidInputError, ValueError)
    assert issubclass(gislicense.NotFoundError, LookupError)
    assert issubclass(gislicense.RequestTimeoutError, gislicense.TransportError)
    assert issubclass(gislicense.TLSError, gislicense.TransportError)
    assert issubclass(gislicense.TokenExpiredError, gislicense.AuthenticationError)


def test_server_error_carries_the_servers_words() -> None:
    error = gislicense.ServerError(
        "https://x refused the request: No (code 400)",
        url="https://x",
        status=200,
        code=400,
        server_message="No",
        details=["because"],
    )
    assert (error.code, error.status, error.server_message, error.details) == (
        400,
        200,
        "No",
        ["because"],
    )
    assert str(error) == error.message


def test_version_and_typing_marker() -> None:
    assert gislicense.__version__.count(".") == 2
    assert (Path(gislicense.__file__).parent / "py.typed").exists()
    for name in gislicense.__all__:
        assert hasattr(gislicense, name), name
