"""Personal data a viewer may not see: masked the same way in pages, JSON and CSV."""

from __future__ import annotations

from typing import Any

from services.metrics.auth.principal import Principal

PERSONAL_FIELDS = ("email", "phone", "name")


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    if not domain:
        return "•••"
    return f"{local[:1]}•••@{domain}"


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    return f"•••{''.join(digits[-2:])}" if len(digits) > 2 else "•••"


def mask_name(name: str) -> str:
    return " ".join(f"{part[:1]}." for part in name.split() if part)


_MASKS = {"email": mask_email, "phone": mask_phone, "name": mask_name}


def masked(row: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """The row as this caller may see it (a copy; admins get it unchanged)."""
    if principal.sees_personal_data:
        return row
    out = dict(row)
    for key, mask in _MASKS.items():
        value = out.get(key)
        if isinstance(value, str) and value:
            out[key] = mask(value)
    return out
