"""Request and response shapes of the HTTP API (API.md), as pydantic models.

Request models forbid unknown fields, so a client cannot smuggle in ``balance``, ``tier`` or
``status`` where they are not accepted; the domain validates meaning (identifiers, currency,
time zone, configuration) and answers with field paths.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StringConstraints,
)

from patron.api.ledger_schemas import render_balances
from patron.api.rendering import Timestamp, rfc3339_or_none
from patron.domain.audit import AuditRecord
from patron.domain.keys import ApiKey
from patron.domain.programs import Program
from patron.schemas.members import Name, Strict
from patron.services.api_keys import IssuedKey
from patron.services.balances import MemberView


class ProgramCreate(Strict):
    slug: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Name
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    country: str | None = Field(None, description="ISO 3166-1 alpha-2; region for local phones")
    config: dict[str, Any] | None = None


class ProgramOut(BaseModel):
    id: str
    slug: str
    name: str
    currency: str
    timezone: str
    country: str | None
    config_version: int
    created_at: Timestamp

    @classmethod
    def of(cls, program: Program) -> dict[str, Any]:
        return cls.model_validate(program, from_attributes=True).model_dump(mode="json")


class ProgramPage(BaseModel):
    items: list[ProgramOut]
    next_cursor: str | None


class ConfigOut(BaseModel):
    version: int
    config: dict[str, Any]


class ConfigValidation(BaseModel):
    valid: bool
    errors: list[dict[str, str]]


class ApiKeyCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    role: Literal["admin", "pos", "partner", "read"]


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: str
    prefix: str
    key: str = Field(description="the whole key; shown only in this response")
    created_at: Timestamp

    @classmethod
    def of(cls, issued: IssuedKey) -> dict[str, Any]:
        key: ApiKey = issued.key
        return cls(
            id=key.id,
            name=key.name,
            role=key.role,
            prefix=key.prefix,
            key=issued.secret,
            created_at=key.created_at,
        ).model_dump(mode="json")


class ApiKeyInfo(BaseModel):
    """A key as listed: never the key itself nor its digest."""

    id: str
    name: str
    role: str
    prefix: str = Field(description="the key's first characters, to recognise it")
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(
        description="when the key last authenticated a request, to the minute"
    )
    revoked_at: Timestamp | None

    @classmethod
    def of(cls, key: ApiKey) -> dict[str, Any]:
        return cls.model_validate(key, from_attributes=True).model_dump(mode="json")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyInfo]
    next_cursor: str | None


class ConsentOut(BaseModel):
    granted: StrictBool
    recorded_at: Timestamp
    source: str


class MemberOut(BaseModel):
    id: str
    external_id: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    status: str
    card_number: str
    referral_code: str
    enrolled_at: Timestamp
    tier: dict[str, Any] | None
    balances: dict[str, Any]
    attributes: dict[str, Any]
    consents: dict[str, bool]
    consent_records: dict[str, ConsentOut]
    referred_by: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, view: MemberView, exponent: int) -> dict[str, Any]:
        m = view.member
        return cls(
            id=m.id,
            external_id=m.external_id,
            email=m.email,
            phone=m.phone,
            first_name=m.first_name,
            last_name=m.last_name,
            birth_date=m.birth_date,
            status=m.status,
            card_number=m.card_number,
            referral_code=m.referral_code,
            enrolled_at=m.enrolled_at,
            tier=(
                {
                    "code": view.tier.code,
                    "name": view.tier.name,
                    "since": rfc3339_or_none(view.tier.since),
                    "until": rfc3339_or_none(view.tier.until),
                }
                if view.tier
                else None
            ),
            balances=render_balances(view.wallets, exponent),
            attributes=m.attributes,
            consents={c.channel: c.granted for c in m.consents.values()},
            consent_records={
                c.channel: ConsentOut(granted=c.granted, recorded_at=c.recorded_at, source=c.source)
                for c in m.consents.values()
            },
            referred_by=m.referred_by,
            created_at=m.created_at,
            updated_at=m.updated_at,
        ).model_dump(mode="json")


class AuditOut(BaseModel):
    id: int
    at: Timestamp
    actor: dict[str, str]
    action: str
    target: dict[str, str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, r: AuditRecord) -> dict[str, Any]:
        return cls(
            id=r.id or 0,
            at=r.at,
            actor={"kind": r.actor.kind, "id": r.actor.id, "name": r.actor.name},
            action=r.action,
            target={"type": r.target_type, "id": r.target_id},
            before=r.before,
            after=r.after,
        ).model_dump(mode="json")


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None


class MemberPage(Page):
    items: list[MemberOut]


class AuditPage(Page):
    items: list[AuditOut]
