"""The digital card and wallet passes (SPEC §10): a member's card as SVG, as an Apple Wallet
pass and as an "Add to Google Wallet" link; and the program's wallet settings, whose secrets
are sealed and never returned (``patron.services.wallet_settings``).

The sealing key and the passes' token key derive from the installation secret
(``settings.fingerprint_key()``), read here at the edge and handed to the services.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from patron.api.deps import ProgramCaller, in_program
from patron.api.rendering import JsonResponse
from patron.api.writes import respond
from patron.services import cards, wallet_passes, wallet_settings
from patron.services.ports import UnitOfWork
from patron.services.transactions import run_read

router = APIRouter(prefix="/v1/programs/{program}", tags=["cards"])

Pem = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class AppleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pass_type_id: Annotated[str, StringConstraints(pattern=r"^pass\.[A-Za-z0-9.\-]+$")] = Field(
        description="the Pass Type ID of the certificate, e.g. `pass.com.example.loyalty`"
    )
    team_id: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{10}$")]
    certificate_pem: Pem
    private_key_pem: Pem
    key_password: Annotated[str, StringConstraints(max_length=200)] | None = None
    wwdr_pem: Pem = Field(description="Apple's WWDR intermediate certificate that issued it")


class GoogleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issuer_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,30}$")]
    class_suffix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._\-]{1,100}$")] | None = (
        None
    )
    service_account_json: Annotated[str, StringConstraints(min_length=2, max_length=20_000)]


class WalletIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apple: AppleIn | None = None
    google: GoogleIn | None = None


class AppleOut(BaseModel):
    pass_type_id: str
    team_id: str
    certificate_subject: str
    expires_at: str


class GoogleOut(BaseModel):
    issuer_id: str
    class_suffix: str
    client_email: str


class WalletOut(BaseModel):
    apple: AppleOut | None
    google: GoogleOut | None


class SaveLinkOut(BaseModel):
    save_url: str


@router.get(
    "/members/{member}/card.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def card_svg(member: str, who: ProgramCaller = Depends(in_program("members.read"))) -> Response:
    """The member's card: program, name, tier, points, and the card number as QR and Code 128."""
    now = who.container.clock.now()
    face = run_read(who.uow, lambda uow: cards.card_face(uow, who.program, member, now))
    return Response(
        cards.card_svg(face),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get(
    "/members/{member}/card.pkpass",
    response_class=Response,
    responses={200: {"content": {"application/vnd.apple.pkpass": {}}}},
)
def card_pkpass(member: str, who: ProgramCaller = Depends(in_program("members.read"))) -> Response:
    """The member's Apple Wallet pass, signed with the program's pass certificate."""
    box = who.container
    url = f"{box.settings.base_url()}/wallet/apple/{who.program.id}"

    def read(uow: UnitOfWork) -> bytes:
        return wallet_passes.apple_pass(
            uow, who.program, member, box.clock.now(), box.wallet_keys(), url
        )

    return Response(
        run_read(who.uow, read),
        media_type="application/vnd.apple.pkpass",
        headers={
            "Content-Disposition": 'attachment; filename="card.pkpass"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/members/{member}/card/google", response_model=SaveLinkOut)
def card_google(member: str, who: ProgramCaller = Depends(in_program("members.read"))) -> Response:
    """The member's "Add to Google Wallet" link (a signed JWT over the loyalty object)."""
    box = who.container

    def read(uow: UnitOfWork) -> str:
        return wallet_passes.google_save_url(
            uow, who.program, member, box.clock.now(), box.wallet_keys()
        )

    return JsonResponse({"save_url": run_read(who.uow, read)})


@router.get("/wallet", response_model=WalletOut)
def get_wallet(who: ProgramCaller = Depends(in_program("wallet.manage"))) -> Response:
    """What wallet passes are configured (never a certificate's key or a service-account key)."""
    return JsonResponse(run_read(who.uow, lambda uow: wallet_settings.read(uow, who.program)))


@router.put("/wallet", response_model=WalletOut)
def put_wallet(
    body: WalletIn,
    request: Request,
    who: ProgramCaller = Depends(in_program("wallet.manage")),
) -> Response:
    """Configure Apple and Google passes: a section sent replaces it, `null` removes it, an
    absent one is kept; the answer shows what is configured, without secrets."""
    sent = body.model_fields_set
    box = who.container
    sections: dict[str, Any] = {}
    if "apple" in sent:
        sections["apple"] = (
            wallet_settings.AppleInput(**body.apple.model_dump()) if body.apple else None
        )
    if "google" in sent:
        sections["google"] = (
            wallet_settings.GoogleInput(**body.google.model_dump()) if body.google else None
        )

    def action(uow: UnitOfWork) -> dict[str, Any]:
        return wallet_settings.configure(
            uow, who.program, who.actor, box.clock.now(), box.wallet_keys().sealer, **sections
        )

    return respond(request, who, action, lambda r: r, status=200, body=body.model_dump(mode="json"))
