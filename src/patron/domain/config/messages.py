"""The ``locale`` and ``messages`` sections of a program configuration (SPEC §11).

``locale`` chooses the language of the default message templates and of the member portal
(``en`` or ``fr``; absent means English). ``messages`` holds the sending policy: frequency caps
per channel for marketing messages (expiry reminders are exempt) and quiet hours for SMS in the
program's time zone. Absent, the defaults apply (``DEFAULT_CAPS``, ``DEFAULT_QUIET_HOURS``):
a mature program protects its members from floods before anyone thinks of configuring it.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import Field, StrictInt, field_serializer, field_validator

from patron.domain.config.values import Section

LOCALES = ("en", "fr")
Locale = Literal["en", "fr"]


class Cap(Section):
    """At most ``count`` marketing messages per member on the channel in ``days`` days."""

    count: Annotated[StrictInt, Field(ge=1, le=1000)]
    days: Annotated[StrictInt, Field(ge=1, le=365)]


class QuietHours(Section):
    """SMS are held from ``start`` to ``end`` (local time; ``end`` may be the next day)."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> object:
        if not isinstance(value, str | time):
            raise ValueError("a time of day such as '21:00'")
        return value

    @field_serializer("start", "end")
    def _hhmm(self, value: time) -> str:
        return value.strftime("%H:%M")

    def holds(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


DEFAULT_CAPS = {"email": Cap(count=1, days=1), "sms": Cap(count=1, days=3)}
DEFAULT_QUIET_HOURS = QuietHours(start=time(21, 0), end=time(9, 0))


class Messages(Section):
    frequency_caps: dict[Literal["email", "sms"], Cap | None] | None = None
    """Per channel; ``null`` for a channel turns its cap off."""
    quiet_hours: QuietHours | None = None

    def cap(self, channel: str) -> Cap | None:
        if self.frequency_caps is not None and channel in self.frequency_caps:
            return self.frequency_caps[channel]
        return DEFAULT_CAPS.get(channel)

    def quiet(self) -> QuietHours:
        return self.quiet_hours or DEFAULT_QUIET_HOURS
