"""Members as requests give them (API.md: MemberCreate, MemberPatch), and the values every
request shares: strict models, short texts, bounded custom attributes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from patron.domain.members import attributes_problem
from patron.schemas.timestamps import Timestamp as TimestampIn
from patron.services.members import ConsentInput, NewMember

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Channel = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    problem = attributes_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Attributes = Annotated[dict[str, Any], AfterValidator(_bounded_json)]
"""Custom attributes of members and events (see docs/api.md, "Limits")."""

MAX_CONSENT_CHANNELS = 20


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentIn(Strict):
    granted: StrictBool
    at: AwareDatetime | None = None
    source: ShortText | None = None


ConsentValue = StrictBool | ConsentIn


def consent_inputs(given: dict[str, ConsentValue] | None) -> dict[str, ConsentInput]:
    out: dict[str, ConsentInput] = {}
    for channel, value in (given or {}).items():
        if isinstance(value, bool):
            out[channel] = ConsentInput(granted=value)
        else:
            out[channel] = ConsentInput(granted=value.granted, at=value.at, source=value.source)
    return out


class MemberCreate(Strict):
    external_id: ShortText | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    birth_date: date | None = None
    attributes: Attributes = Field(default_factory=dict)
    consents: dict[Channel, ConsentValue] = Field(
        default_factory=dict,
        max_length=MAX_CONSENT_CHANNELS,
        description="per channel: true/false, or {granted, at?, source?}",
    )
    referred_by: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None, description="the referrer's referral code"
    )
    enrolled_at: TimestampIn | None = None

    def to_command(self) -> NewMember:
        return NewMember(
            external_id=self.external_id,
            email=self.email,
            phone=self.phone,
            first_name=self.first_name,
            last_name=self.last_name,
            birth_date=self.birth_date,
            attributes=self.attributes,
            consents=consent_inputs(self.consents),
            referred_by=self.referred_by,
            enrolled_at=self.enrolled_at,
        )


class MemberPatch(Strict):
    external_id: ShortText | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    birth_date: date | None = None
    attributes: Attributes | None = Field(
        None, description="merged into the current attributes (RFC 7396: null removes a key)"
    )
    consents: dict[Channel, ConsentValue] | None = Field(None, max_length=MAX_CONSENT_CHANNELS)
    status: Literal["active", "frozen", "closed"] | None = None
