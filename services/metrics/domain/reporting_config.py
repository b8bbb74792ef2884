"""What the config file says about reporting: the reporting time zone, marketing spend and quotas.

Lives with the metrics domain (the only reader); `shared/config/schema.py` embeds these models.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportingConfig(_Strict):
    timezone: str = Field(default="UTC", description="cohort boundaries (month, quarter, YTD) in this zone")
    currency: str = Field(default="USD", max_length=3, min_length=3)
    # Few large deals make an average meaningless: below this many known deal values the dollar
    # funnel tabulates only (no count x average estimate).
    min_deals_to_estimate: int = Field(default=20, ge=1)
    speed_to_lead_target_minutes: float = Field(
        default=5.0, gt=0, description="wall-clock target used when no router SLA clock reported the lead"
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Paris") from exc
        return value


class SpendEntry(_Strict):
    """Marketing spend of one source in one calendar month (in the reporting time zone)."""

    source: str = Field(min_length=1)
    month: str = Field(description="YYYY-MM")
    amount: float = Field(ge=0)

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        if not _MONTH.match(value):
            raise ValueError(f"{value!r} is not a month; write it as YYYY-MM, like 2026-03")
        return value

    @property
    def first_day(self) -> date:
        year, month = self.month.split("-")
        return date(int(year), int(month), 1)


class QuotaEntry(_Strict):
    """A revenue target for a month (YYYY-MM) or a quarter (YYYY-Qn), for everyone, a team or a rep."""

    period: str
    amount: float = Field(gt=0)
    team: str | None = None
    rep: str | None = None

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        if not (_MONTH.match(value) or _QUARTER.match(value)):
            raise ValueError(f"{value!r} is not a period; write a month (2026-03) or a quarter (2026-Q1)")
        return value

    def bounds(self) -> tuple[date, date]:
        """[first day, first day after) of the period."""
        if m := _MONTH.match(self.period):
            year, month = int(m.group(1)), int(m.group(2))
            start = date(year, month, 1)
        else:
            q = _QUARTER.match(self.period)
            assert q is not None
            year, month = int(q.group(1)), (int(q.group(2)) - 1) * 3 + 1
            start = date(year, month, 1)
        months = 1 if _MONTH.match(self.period) else 3
        end_month = month + months
        end = date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
        return start, end
