"""A report's scope: a cohort window in the reporting time zone, dimension filters and a breakdown.

Read from the query string the same way by every report, so `?period=month&month=2026-03&by=source`
means the same thing on /v1/funnel, /v1/pipeline and /v1/response-times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Depends, HTTPException, Query, Request

from services.metrics.domain.periods import Period, PeriodError, Window, window
from services.metrics.domain.reporting_config import QuotaEntry, ReportingConfig, SpendEntry

Dimension = Literal["source", "campaign", "product_line", "team", "rep"]
DIMENSIONS: tuple[str, ...] = ("source", "campaign", "product_line", "team", "rep")


@dataclass(frozen=True)
class ReportConfig:
    """The config file's reporting parts, as the metrics app holds them."""

    reporting: ReportingConfig = field(default_factory=ReportingConfig)
    spend: tuple[SpendEntry, ...] = ()
    quotas: tuple[QuotaEntry, ...] = ()


@dataclass(frozen=True)
class Scope:
    window: Window
    filters: dict[str, str] = field(default_factory=dict)  # dimension -> value
    by: Dimension | None = None
    as_of: datetime = field(default_factory=lambda: datetime.now(UTC))

    def describe(self) -> dict[str, object]:
        w = self.window
        return {
            "cohort": w.label,
            "from": w.start.isoformat() if w.start else None,
            "to": w.end.isoformat() if w.end else None,
            "timezone": w.timezone,
            "filters": dict(self.filters),
            "by": self.by,
            "as_of": self.as_of.isoformat(),
        }


def report_config(request: Request) -> ReportConfig:
    found = getattr(request.app.state, "report_config", None)
    return found if isinstance(found, ReportConfig) else ReportConfig()


def _unprocessable(field_name: str, message: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["query", field_name], "msg": message, "type": "value_error"}])


Text = Annotated[str | None, Query(max_length=300)]
# Dates and instants are read from strings by hand: FastAPI would also take `0.5` as a Unix time.
_DATE_OR_TIME = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
_ZONES = {"enum": sorted(available_timezones())}
_YEARS = r"(19\d\d|2\d\d\d)"


def _moment(value: str | None, field_name: str, *, date_allowed: bool = True) -> datetime | date | None:
    if value is None:
        return None
    try:
        if date_allowed and len(value) == 10:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _unprocessable(field_name, "a date (YYYY-MM-DD) or an RFC 3339 time with its offset") from None
    if parsed.tzinfo is None:
        raise _unprocessable(field_name, "datetime needs a time zone (Z or +hh:mm)")
    return parsed


def report_scope(
    config: Annotated[ReportConfig, Depends(report_config)],
    period: Annotated[Period | None, Query(description="all, month, quarter, ytd, custom")] = None,
    month: Annotated[
        str | None, Query(pattern=rf"^{_YEARS}-(0[1-9]|1[0-2])$", description="period=month: YYYY-MM")
    ] = None,
    quarter: Annotated[
        str | None, Query(pattern=rf"^{_YEARS}-Q[1-4]$", description="period=quarter: YYYY-Qn")
    ] = None,
    year: Annotated[int | None, Query(ge=1970, le=2999, description="period=ytd: the year")] = None,
    start: Annotated[
        str | None,
        Query(alias="from", description="custom cohort start (inclusive)", json_schema_extra=_DATE_OR_TIME),
    ] = None,
    end: Annotated[
        str | None,
        Query(alias="to", description="custom cohort end (exclusive)", json_schema_extra=_DATE_OR_TIME),
    ] = None,
    tz: Annotated[
        str | None, Query(description="reporting time zone (default: the config's)", json_schema_extra=_ZONES)
    ] = None,
    by: Annotated[Dimension | None, Query(description="one result per value of this dimension")] = None,
    source: Text = None,
    campaign: Text = None,
    product_line: Text = None,
    team: Text = None,
    rep: Text = None,
    as_of_text: Annotated[
        str | None,
        Query(
            alias="as_of",
            description="'now' for slippage and YTD (default: now)",
            json_schema_extra={"type": "string", "format": "date-time"},
        ),
    ] = None,
) -> Scope:
    as_of = _moment(as_of_text, "as_of", date_allowed=False)
    assert as_of is None or isinstance(as_of, datetime)
    timezone = config.reporting.timezone if tz is None else tz  # `tz=` (empty) is an error, not the default
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _unprocessable(
            "tz", f"unknown time zone {timezone!r}; use an IANA name like Europe/Paris"
        ) from None
    if as_of is not None and as_of.tzinfo is None:
        raise _unprocessable("as_of", "datetime needs a time zone (Z or +hh:mm)")
    now = as_of.astimezone(UTC) if as_of else datetime.now(UTC)
    chosen: Period = period or ("custom" if start or end else "all")
    try:
        w = window(
            chosen,
            timezone,
            now=now,
            month=month,
            quarter=quarter,
            year=year,
            start=_moment(start, "from"),
            end=_moment(end, "to"),
        )
    except PeriodError as exc:
        raise _unprocessable("period", str(exc)) from None
    values = {"source": source, "campaign": campaign, "product_line": product_line, "team": team, "rep": rep}
    return Scope(w, {k: v for k, v in values.items() if v is not None}, by, now)
