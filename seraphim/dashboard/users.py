"""
Dashboard users in a YAML file: a name, a role and an argon2id password hash each.

    users:
      alice: {role: admin, password_hash: "$argon2id$v=19$..."}

The file is written owner-only (0600); a password is never stored or logged, only its hash.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

ROLES = ("viewer", "trader", "admin")  # each can do what the ones before it can
USERS_ENV = "SERAPHIM_DASHBOARD_USERS"
DEFAULT_USERS_FILE = Path("~/.config/seraphim/dashboard_users.yaml")
MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not-a-user-password")


class UsersError(ValueError):
    """A users file or a user that cannot be used as given (one line naming the problem)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Whether this user's role includes ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)


def users_file(path: str | Path | None = None) -> Path:
    """``path``, else ``$SERAPHIM_DASHBOARD_USERS``, else ``~/.config/seraphim/...``."""
    chosen = path or os.environ.get(USERS_ENV) or DEFAULT_USERS_FILE
    return Path(chosen).expanduser()


class UserStore:
    def __init__(self, path: Path, entries: dict[str, dict]) -> None:
        self.path = path
        self._entries = entries

    @classmethod
    def load(cls, path: Path, missing_ok: bool = False) -> UserStore:
        if not path.exists():
            if missing_ok:
                return cls(path, {})
            raise UsersError(
                f"no dashboard users file at {path}: add a user with "
                "`seraphim dashboard add-user NAME --role admin`"
            )
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise UsersError(f"users file {path} unreadable: {str(e).splitlines()[0]}") from None
        users = data.get("users") if isinstance(data, dict) else None
        if not isinstance(users, dict):
            raise UsersError(f"users file {path} needs a 'users:' mapping of name to role/hash")
        for name, entry in users.items():
            _check_entry(path, str(name), entry)
        return cls(path, {str(k): dict(v) for k, v in users.items()})

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password matches, else None (in constant-ish time either way)."""
        entry = self._entries.get(name)
        try:
            _HASHER.verify(entry["password_hash"] if entry else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, entry["role"]) if entry else None

    def set_user(self, name: str, role: str, password: str) -> None:
        """Add or replace a user, then save the file (owner-only)."""
        if not _NAME.fullmatch(name):
            raise UsersError(f"user name {name!r} must be 1-64 letters, digits, '_', '.' or '-'")
        if role not in ROLES:
            raise UsersError(f"role {role!r} must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UsersError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
        self._entries[name] = {"role": role, "password_hash": _HASHER.hash(password)}
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump({"users": self._entries}, sort_keys=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, self.path)


def _check_entry(path: Path, name: str, entry: object) -> None:
    if not isinstance(entry, dict):
        raise UsersError(f"users file {path}: user {name!r} needs role and password_hash")
    if entry.get("role") not in ROLES:
        raise UsersError(
            f"users file {path}: user {name!r} has role {entry.get('role')!r} "
            f"(one of {', '.join(ROLES)})"
        )
    if not str(entry.get("password_hash", "")).startswith("$argon2"):
        raise UsersError(f"users file {path}: user {name!r} has no argon2 password_hash")
