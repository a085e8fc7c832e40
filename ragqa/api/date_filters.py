"""The date filters `POST /v1/search` and `POST /v1/chat/completions` take, as `ragqa search` does."""
from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from ragqa.dates import parse_date


class DateFilters(BaseModel):
    created_after: str | None = Field(None, description="only notes created on or after this day (YYYY-MM-DD)")
    created_before: str | None = Field(None, description="only notes created on or before this day")
    modified_after: str | None = Field(None, description="only notes modified on or after this day")
    modified_before: str | None = Field(None, description="only notes modified on or before this day")

    @field_validator("created_after", "created_before", "modified_after", "modified_before")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        if value is None:
            return None
        day = parse_date(value)
        if day is None:
            raise ValueError(f"{value!r} is not a date: write it as YYYY-MM-DD")
        return day.isoformat()

    def date_ranges(self) -> dict:
        """{"created": (after, before) or None, "modified": ...}: the keyword arguments of Filters."""
        return {which: (getattr(self, f"{which}_after"), getattr(self, f"{which}_before"))
                if getattr(self, f"{which}_after") or getattr(self, f"{which}_before") else None
                for which in ("created", "modified")}
