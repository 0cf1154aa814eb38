"""A program's wallet pass settings (SPEC §10): the Apple pass certificate with its key and
Apple's WWDR intermediate, and the Google Wallet issuer with its service-account key.

Secrets are sealed (``patron.services.sealing``, AES-256-GCM under a key derived from the
installation's secret) before they reach the database, and no read gives them back: a read
shows what is configured (pass type, team, the certificate's subject and expiry; issuer and the
service account's e-mail). Saving checks what Apple and Google would refuse later, each at its
field: a certificate that does not parse or has expired, a key that does not open with its
password or is not the certificate's, an intermediate that did not issue the certificate, a
service-account document without an RSA key.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from patron.domain.audit import Actor
from patron.domain.errors import FieldError, ValidationFailed, WalletNotConfigured
from patron.domain.programs import Program
from patron.domain.timestamps import rfc3339
from patron.services import audit
from patron.services.ports import UnitOfWork
from patron.services.ports.wallet import StoredWallet
from patron.services.sealing import Sealer

SEALING_PURPOSE = "patron wallet passes"
"""The purpose the sealing key of wallet secrets is derived for (entrypoints build the Sealer)."""

DEFAULT_CLASS_SUFFIX = "loyalty"


@dataclass(frozen=True, slots=True)
class AppleInput:
    pass_type_id: str
    team_id: str
    certificate_pem: str
    private_key_pem: str
    wwdr_pem: str
    key_password: str | None = None


@dataclass(frozen=True, slots=True)
class GoogleInput:
    issuer_id: str
    service_account_json: str
    class_suffix: str | None = None


@dataclass(frozen=True, slots=True)
class AppleSecrets:
    """What signing a pass needs, opened from the seal."""

    pass_type_id: str
    team_id: str
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    wwdr: x509.Certificate


@dataclass(frozen=True, slots=True)
class GoogleSecrets:
    issuer_id: str
    class_suffix: str
    client_email: str
    private_key: rsa.RSAPrivateKey

    @property
    def class_id(self) -> str:
        return f"{self.issuer_id}.{self.class_suffix}"


T = TypeVar("T")


class OpenedSecrets:
    """Certificates and keys already opened from their seal, by program and sealed value.

    Opening costs far more than signing: loading an RSA key checks its consistency (about 35 ms
    for a 2048-bit key on the project's machine), against under a millisecond for the pass's
    signature, so every ``.pkpass`` and Google link paid it before this cache. A sealed value is
    new at every save (its nonce is random), so a changed configuration is a new entry and never
    meets a stale one; the oldest entries leave past ``size``. The plain columns (pass type,
    team, issuer) are read at each use, not kept here. One cache per installation secret
    (``WalletKeys``): a value sealed under another secret is never served from it.
    """

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, program_id: str, sealed: str, open_: Callable[[], T]) -> T:
        key = (kind, program_id, sealed)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                found: T = self._items[key]
                return found
        opened = open_()  # outside the lock: two threads may both open it, harmlessly
        with self._lock:
            self._items[key] = opened
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return opened


_KEEP: Any = object()
"""A section not sent: the stored one is kept."""


def configure(
    uow: UnitOfWork,
    program: Program,
    actor: Actor,
    now: datetime,
    sealer: Sealer,
    *,
    apple: AppleInput | None = _KEEP,
    google: GoogleInput | None = _KEEP,
) -> dict[str, Any]:
    """Save the sections given (None removes one, an absent one is kept); returns the summary.

    Raises: ValidationFailed (at the field of each problem)."""
    stored = uow.wallet.get(program.id)
    values: dict[str, Any] = (
        {k: getattr(stored, k) for k in StoredWallet.__dataclass_fields__}
        if stored is not None
        else dict.fromkeys(StoredWallet.__dataclass_fields__)
    )
    errors: list[FieldError] = []
    if apple is not _KEEP:
        values.update(_apple_values(apple, sealer, now, errors))
    if google is not _KEEP:
        values.update(_google_values(google, sealer, errors))
    if errors:
        raise ValidationFailed(errors)
    values.update(program_id=program.id, updated_at=now, updated_by=actor.label)
    saved = StoredWallet(**values)
    uow.wallet.put(saved)
    shown = summary(saved)
    audit.record(
        uow,
        program_id=program.id,
        actor=actor,
        action="wallet.configured",
        target=("program", program.id),
        at=now,
        after=shown,
    )
    return shown


def read(uow: UnitOfWork, program: Program) -> dict[str, Any]:
    """What is configured, without a secret."""
    return summary(uow.wallet.get(program.id))


def summary(stored: StoredWallet | None) -> dict[str, Any]:
    apple = google = None
    if stored is not None and stored.apple_sealed is not None:
        apple = {
            "pass_type_id": stored.apple_pass_type_id,
            "team_id": stored.apple_team_id,
            "certificate_subject": stored.apple_subject,
            "expires_at": rfc3339(stored.apple_expires_at) if stored.apple_expires_at else None,
        }
    if stored is not None and stored.google_sealed is not None:
        google = {
            "issuer_id": stored.google_issuer_id,
            "class_suffix": stored.google_class_suffix,
            "client_email": stored.google_client_email,
        }
    return {"apple": apple, "google": google}


def apple_secrets(
    uow: UnitOfWork, program: Program, sealer: Sealer, cache: OpenedSecrets | None = None
) -> AppleSecrets:
    """The Apple settings with their certificates and key opened (from ``cache`` when it holds
    them).

    Raises: WalletNotConfigured."""
    stored = uow.wallet.get(program.id)
    if stored is None or stored.apple_sealed is None:
        raise WalletNotConfigured("this program has no Apple Wallet pass certificate")
    sealed = stored.apple_sealed

    def open_() -> tuple[
        x509.Certificate, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, x509.Certificate
    ]:
        opened = json.loads(sealer.open(sealed))
        key = serialization.load_pem_private_key(opened["private_key_pem"].encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return (
            x509.load_pem_x509_certificate(opened["certificate_pem"].encode()),
            key,
            x509.load_pem_x509_certificate(opened["wwdr_pem"].encode()),
        )

    certificate, key, wwdr = (
        cache.get("apple", program.id, sealed, open_) if cache is not None else open_()
    )
    return AppleSecrets(
        pass_type_id=stored.apple_pass_type_id or "",
        team_id=stored.apple_team_id or "",
        certificate=certificate,
        private_key=key,
        wwdr=wwdr,
    )


def google_secrets(
    uow: UnitOfWork, program: Program, sealer: Sealer, cache: OpenedSecrets | None = None
) -> GoogleSecrets:
    """The Google settings with the service account's key opened (from ``cache`` when it holds
    them).

    Raises: WalletNotConfigured."""
    stored = uow.wallet.get(program.id)
    if stored is None or stored.google_sealed is None:
        raise WalletNotConfigured("this program has no Google Wallet issuer")
    sealed = stored.google_sealed

    def open_() -> tuple[str, rsa.RSAPrivateKey]:
        account = json.loads(sealer.open(sealed))
        key = serialization.load_pem_private_key(account["private_key"].encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return str(account["client_email"]), key

    client_email, key = (
        cache.get("google", program.id, sealed, open_) if cache is not None else open_()
    )
    return GoogleSecrets(
        issuer_id=stored.google_issuer_id or "",
        class_suffix=stored.google_class_suffix or DEFAULT_CLASS_SUFFIX,
        client_email=client_email,
        private_key=key,
    )


def _apple_values(
    given: AppleInput | None, sealer: Sealer, now: datetime, errors: list[FieldError]
) -> dict[str, Any]:
    if given is None:
        return dict.fromkeys(
            ("apple_pass_type_id", "apple_team_id", "apple_subject", "apple_expires_at"),
        ) | {"apple_sealed": None}
    found = len(errors)
    cert = _certificate(given.certificate_pem, "apple.certificate_pem", errors)
    wwdr = _certificate(given.wwdr_pem, "apple.wwdr_pem", errors)
    key = _private_key(given.private_key_pem, given.key_password, "apple", errors)
    if cert is not None:
        if cert.not_valid_after_utc <= now:
            errors.append(
                FieldError(
                    "apple.certificate_pem", f"expired on {rfc3339(cert.not_valid_after_utc)}"
                )
            )
        if key is not None and _spki(key.public_key()) != _spki(cert.public_key()):
            errors.append(
                FieldError("apple.private_key_pem", "is not the key of the pass certificate")
            )
        if wwdr is not None and cert.issuer != wwdr.subject:
            errors.append(FieldError("apple.wwdr_pem", "did not issue the pass certificate"))
    if key is not None and not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        errors.append(FieldError("apple.private_key_pem", "must be an RSA or EC key"))
    if len(errors) > found or cert is None or key is None or wwdr is None:
        return {}
    sealed = json.dumps(
        {
            "certificate_pem": given.certificate_pem,
            "private_key_pem": _unencrypted(key),
            "wwdr_pem": given.wwdr_pem,
        }
    )
    return {
        "apple_pass_type_id": given.pass_type_id,
        "apple_team_id": given.team_id,
        "apple_subject": cert.subject.rfc4514_string()[:500],
        "apple_expires_at": cert.not_valid_after_utc,
        "apple_sealed": sealer.seal(sealed),
    }


def _google_values(
    given: GoogleInput | None, sealer: Sealer, errors: list[FieldError]
) -> dict[str, Any]:
    if given is None:
        return dict.fromkeys(
            ("google_issuer_id", "google_class_suffix", "google_client_email", "google_sealed")
        )
    path = "google.service_account_json"
    try:
        account = json.loads(given.service_account_json)
    except ValueError:
        errors.append(FieldError(path, "is not JSON (paste the service account's key file)"))
        return {}
    if not isinstance(account, dict) or not isinstance(account.get("client_email"), str):
        errors.append(FieldError(path, "has no client_email: not a service account key file"))
        return {}
    key = _private_key(str(account.get("private_key", "")), None, "google", errors, field=path)
    if key is None:
        return {}
    if not isinstance(key, rsa.RSAPrivateKey):
        errors.append(FieldError(path, "its private_key must be an RSA key"))
        return {}
    sealed = json.dumps({"client_email": account["client_email"], "private_key": _unencrypted(key)})
    return {
        "google_issuer_id": given.issuer_id,
        "google_class_suffix": given.class_suffix or DEFAULT_CLASS_SUFFIX,
        "google_client_email": account["client_email"],
        "google_sealed": sealer.seal(sealed),
    }


def _certificate(pem: str, path: str, errors: list[FieldError]) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        errors.append(FieldError(path, "is not a PEM certificate"))
        return None


def _private_key(
    pem: str,
    password: str | None,
    section: str,
    errors: list[FieldError],
    *,
    field: str | None = None,
) -> PrivateKeyTypes | None:
    path = field or f"{section}.private_key_pem"
    try:
        return serialization.load_pem_private_key(
            pem.encode(), password.encode() if password else None
        )
    except TypeError:
        # The key is encrypted and no password came, or a password came for a plain key.
        errors.append(
            FieldError(
                f"{section}.key_password" if field is None else path,
                "is required for this key" if not password else "is not needed for this key",
            )
        )
    except ValueError:
        errors.append(
            FieldError(
                f"{section}.key_password" if password else path,
                "does not open the key" if password else "is not a PEM private key",
            )
        )
    return None


def _spki(public: Any) -> bytes:
    return bytes(
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _unencrypted(key: PrivateKeyTypes) -> str:
    """The key as unencrypted PKCS #8 PEM: the seal around it is its protection."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
