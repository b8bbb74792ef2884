"""Server-side rendering of the dashboard: the first paint already shows the SLA board (no flash of
empty tables), then static/dashboard.js keeps it live. All text is HTML-escaped here."""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

from services.metrics.auth.principal import Principal

_KPIS = (
    ("open", "Open clocks", ""),
    ("due_soon", "Due in 15 min", "warn"),
    ("breached", "Breached", "bad"),
    ("escalated", "Escalations", "warn"),
    ("paused", "Paused", ""),
)


@cache
def _template() -> str:
    return files("services.metrics").joinpath("dashboard.html").read_text()


def duration(seconds: int | None) -> str:
    """Business time left as ops read it: 1h 05m, 12m, -3m (overdue)."""
    if seconds is None:
        return "-"
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, minutes = divmod(seconds // 60, 60)
    return f"{sign}{hours}h {minutes:02d}m" if hours else f"{sign}{minutes}m"


def _kpis(counts: dict[str, int]) -> str:
    return "".join(
        f'<div class="kpi {cls}"><span class="kpi-value" data-kpi="{key}">{counts.get(key, 0)}</span>'
        f'<span class="kpi-label">{escape(label)}</span></div>'
        for key, label, cls in _KPIS
    )


def board_rows(clocks: list[dict[str, Any]]) -> str:
    if not clocks:
        return '<tr><td colspan="6" class="muted">No running SLA clocks.</td></tr>'
    rows = []
    for c in clocks:
        state = "breached" if c["status"] == "breached" else ("due" if c["due_soon"] else c["status"])
        who = escape(c.get("name") or "") + f'<br><span class="muted">{escape(c.get("email") or "")}</span>'
        rows.append(
            f'<tr class="st-{state}" data-lead="{escape(c["lead_id"])}"><td>{who}</td>'
            f'<td>{escape(c["rep_id"] or "-")}<br><span class="muted">{escape(c["team"])}</span></td>'
            f'<td>{escape(c["policy"])}</td><td class="num">{duration(c["business_seconds_left"])}</td>'
            f'<td><span class="pill {state}">{escape(state)}</span></td>'
            f'<td class="num">{c["escalations"] or ""}</td></tr>'
        )
    return "".join(rows)


def render_page(principal: Principal, board: dict[str, Any]) -> str:
    boot = json.dumps({"role": principal.role, "board": board}).replace("<", "\\u003c")
    replacements = {
        "{{user}}": escape(principal.name),
        "{{role}}": escape(principal.role),
        "{{kpis}}": _kpis(board["counts"]),
        "{{board_rows}}": board_rows(board["clocks"]),
        "{{boot}}": boot,
    }
    page = _template()
    for marker, value in replacements.items():
        page = page.replace(marker, value)
    return page
