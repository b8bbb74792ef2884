"""The authenticated caller of one request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["viewer", "admin"]
ROLES: tuple[str, ...] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    name: str  # username, or the key's name
    role: Role
    kind: Literal["user", "key"]

    @property
    def sees_personal_data(self) -> bool:
        return self.role == "admin"


def as_role(value: str) -> Role:
    if value == "admin":
        return "admin"
    return "viewer"  # anything unknown gets the least
