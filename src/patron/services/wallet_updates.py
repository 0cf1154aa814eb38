"""Passes stay current (SPEC §10): Apple's PassKit web service and the wallet job.

Apple's side: a device that adds a pass registers for its updates with the pass's
``authenticationToken`` and a push token; when the member's balance or tier changes, Apple's
push service wakes the device (an empty push), the device asks which of its passes changed since
its last tag, and downloads each again, ``If-Modified-Since`` the last time.

The job reads outbox facts it has not handled (``outbox.wallet_at``, its own mark beside the
webhooks' and the messages'), takes the members they touch (any fact naming a ``member_id`` but
``points.expiring``, which changes nothing), marks those members' passes changed, and commits;
then, outside the transaction, pushes once to each distinct device token (forgetting the
tokens APNs answers 410 for: the pass left that device) and patches each member's Google
loyalty object. The facts of one purchase (an earn, a tier change) fall in one
batch, so a change is one push. Pushes are at most once: a push lost after commit leaves the
pass marked changed, and the device picks it up at its next refresh.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from patron.domain.errors import MemberNotFound, Unauthenticated, WalletNotConfigured
from patron.domain.programs import Program
from patron.services.cards import card_face
from patron.services.members import get_member
from patron.services.ports import UnitOfWork, UnitOfWorkFactory
from patron.services.ports.wallet import GoogleWalletClient, PassDevice, PassPusher
from patron.services.programs import get_program
from patron.services.transactions import run_in_transaction
from patron.services.wallet_passes import WalletKeys, apple_pass, loyalty_object
from patron.services.wallet_settings import apple_secrets, google_secrets

BATCH = 200
QUIET_FACTS = frozenset({"points.expiring"})
"""Facts naming a member that change nothing on the pass."""


@dataclass(frozen=True, slots=True)
class WalletOutlets:
    """What the wallet job speaks to (None: not configured) and the keys of the passes."""

    keys: WalletKeys
    pusher: PassPusher | None = None
    google: GoogleWalletClient | None = None


def check_token(
    uow: UnitOfWork, program: Program, keys: WalletKeys, pass_type_id: str, serial: str, token: str
) -> None:
    """The ``Authorization: ApplePass <token>`` of a web-service request.

    Raises: Unauthenticated, WalletNotConfigured."""
    configured = uow.wallet.get(program.id)
    if configured is None or configured.apple_pass_type_id is None:
        raise WalletNotConfigured("this program has no Apple Wallet passes")
    expected = keys.auth_token(program.id, serial)
    if pass_type_id != configured.apple_pass_type_id or not hmac.compare_digest(token, expected):
        raise Unauthenticated("not this pass's authentication token")


def register(
    uow: UnitOfWork,
    program: Program,
    keys: WalletKeys,
    now: datetime,
    *,
    device_id: str,
    pass_type_id: str,
    serial: str,
    token: str,
    push_token: str,
) -> bool:
    """Register a device for a pass's updates; True when new.

    Raises: Unauthenticated, WalletNotConfigured, MemberNotFound."""
    check_token(uow, program, keys, pass_type_id, serial, token)
    member = get_member(uow, program, serial)
    return uow.passes.register(
        PassDevice(program.id, device_id, pass_type_id, member.id, push_token, now)
    )


def unregister(
    uow: UnitOfWork,
    program: Program,
    keys: WalletKeys,
    *,
    device_id: str,
    pass_type_id: str,
    serial: str,
    token: str,
) -> bool:
    """Raises: Unauthenticated, WalletNotConfigured."""
    check_token(uow, program, keys, pass_type_id, serial, token)
    return uow.passes.unregister(program.id, device_id, pass_type_id, serial)


def changed_serials(
    uow: UnitOfWork, program: Program, device_id: str, pass_type_id: str, since: str | None
) -> tuple[list[str], str | None]:
    """The serial numbers of the device's passes changed after the tag ``since`` and the new
    tag (microseconds since the epoch of the latest change), or ([], None)."""
    after = None
    if since and since.isdigit():
        after = datetime.fromtimestamp(int(since) / 1_000_000, tz=UTC)
    found = uow.passes.serials(program.id, device_id, pass_type_id, after)
    if not found:
        return [], None
    latest = max(at for _, at in found)
    return [serial for serial, _ in found], str(int(latest.timestamp() * 1_000_000))


def latest_pass(
    uow: UnitOfWork,
    program: Program,
    keys: WalletKeys,
    now: datetime,
    web_service_url: str,
    *,
    pass_type_id: str,
    serial: str,
    token: str,
) -> tuple[bytes, datetime]:
    """The pass as it is now, and when it last changed.

    Raises: Unauthenticated, WalletNotConfigured, MemberNotFound."""
    check_token(uow, program, keys, pass_type_id, serial, token)
    changed = uow.passes.updated_at(program.id, serial) or now
    return apple_pass(uow, program, serial, now, keys, web_service_url), changed


@dataclass(slots=True)
class _Work:
    handled: int = 0
    topic: str = ""
    cert_pem: str = ""
    key_pem: str = ""
    tokens: list[str] = field(default_factory=list)
    google: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    client_email: str = ""
    google_key_pem: str = ""


def run(uow_factory: UnitOfWorkFactory, program_id: str, now: datetime, out: WalletOutlets) -> int:
    """Handle the program's new facts; returns how many pushes and patches went out."""
    sent = 0
    while True:
        work = run_in_transaction(uow_factory, lambda uow: _batch(uow, program_id, now, out))
        if work.handled == 0:
            return sent
        if work.tokens and out.pusher is not None:
            pushed = out.pusher.push(
                work.tokens, topic=work.topic, cert_pem=work.cert_pem, key_pem=work.key_pem
            )
            sent += pushed.accepted
            if pushed.gone:
                _forget_tokens(uow_factory, program_id, pushed.gone)
        if out.google is not None:
            for object_id, body in work.google:
                done = out.google.patch_object(
                    object_id, body, client_email=work.client_email, key_pem=work.google_key_pem
                )
                sent += int(done)


def _forget_tokens(
    uow_factory: UnitOfWorkFactory, program_id: str, tokens: tuple[str, ...]
) -> None:
    run_in_transaction(uow_factory, lambda uow: uow.passes.forget_tokens(program_id, tokens))


def _batch(uow: UnitOfWork, program_id: str, now: datetime, out: WalletOutlets) -> _Work:
    facts = uow.passes.unhandled(program_id, BATCH)
    work = _Work(handled=len(facts))
    if not facts:
        return work
    members = sorted(
        {
            str(f.payload["member_id"])
            for f in facts
            if f.type not in QUIET_FACTS and isinstance(f.payload.get("member_id"), str)
        }
    )
    touched = uow.passes.touch(program_id, members, now)
    uow.passes.mark_handled([f.id for f in facts], now)
    if not members:
        return work
    program = get_program(uow, program_id)
    settings = uow.wallet.get(program_id)
    if touched and out.pusher is not None and settings and settings.apple_sealed:
        secrets = apple_secrets(uow, program, out.keys.sealer, out.keys.opened)
        work.tokens = uow.passes.push_tokens(program_id, touched)
        work.topic = secrets.pass_type_id
        work.cert_pem = _pem_cert(secrets.certificate)
        work.key_pem = _pem_key(secrets.private_key)
    if out.google is not None and settings and settings.google_sealed:
        account = google_secrets(uow, program, out.keys.sealer, out.keys.opened)
        work.client_email = account.client_email
        work.google_key_pem = _pem_key(account.private_key)
        for member_id in members:
            try:
                face = card_face(uow, program, member_id, now)
            except MemberNotFound:
                continue
            body = loyalty_object(face, account)
            work.google.append((str(body["id"]), body))
    return work


def _pem_cert(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _pem_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
