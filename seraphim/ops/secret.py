"""
The operator secret that signs control commands, from ``$SERAPHIM_OPERATOR_SECRET`` or the file
named by ``$SERAPHIM_OPERATOR_SECRET_FILE``. It is held in memory only; nothing prints it.
"""

from __future__ import annotations

import os
from pathlib import Path

SECRET_ENV = "SERAPHIM_OPERATOR_SECRET"
SECRET_FILE_ENV = "SERAPHIM_OPERATOR_SECRET_FILE"
MIN_LENGTH = 16


class OperatorSecretError(ValueError):
    """No usable operator secret; the message says where it was looked for."""


def operator_secret_configured() -> bool:
    """Whether the environment names an operator secret (a node then opens its control channel)."""
    return bool(os.environ.get(SECRET_ENV) or os.environ.get(SECRET_FILE_ENV))


def operator_secret() -> bytes:
    value = os.environ.get(SECRET_ENV)
    if not value and os.environ.get(SECRET_FILE_ENV):
        path = Path(os.environ[SECRET_FILE_ENV])
        try:
            value = path.read_text().strip()
        except OSError as e:
            raise OperatorSecretError(
                f"operator secret file {path} (${SECRET_FILE_ENV}) unreadable: {e.strerror}"
            ) from None
    if not value:
        raise OperatorSecretError(
            f"no operator secret: set ${SECRET_ENV} or ${SECRET_FILE_ENV} (a file holding it)"
        )
    if len(value) < MIN_LENGTH:
        raise OperatorSecretError(f"the operator secret must be at least {MIN_LENGTH} characters")
    return value.encode()
