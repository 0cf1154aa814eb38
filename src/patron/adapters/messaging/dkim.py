"""DKIM signatures of outgoing email (RFC 6376).

The signature covers the headers a receiver's judgement rests on: ``From``, ``To``,
``Subject``, ``Date``, ``Message-ID`` and the one-click unsubscribe pair ``List-Unsubscribe`` and
``List-Unsubscribe-Post`` (RFC 8058 asks for them to be signed), each only when the message has
it. Canonicalization is relaxed/relaxed, which survives the header refolding and whitespace
changes relays make.

The key is a PEM private key, given inline or as the path of a file holding it: RSA signs with
``rsa-sha256``, Ed25519 with ``ed25519-sha256`` (RFC 8463; receivers that understand only RSA
ignore such a signature, so RSA 2048 is the safe choice). ``dns_record`` gives the TXT record to
publish at ``{selector}._domainkey.{domain}``.

``dkimpy`` parses, canonicalizes and hashes, as its own ``dkim.sign`` does (the same steps, in
``DkimSigner.sign``); the private-key operation is ``cryptography``'s, because ``dkimpy`` does
RSA in pure Python: 15 ms a message, which alone would hold a batch to 60 messages a second.
``dkim.verify`` checks the result in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils

SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
HEADER = b"DKIM-Signature"
CANONICALIZATION = b"relaxed/relaxed"


def read_key(key: str) -> bytes:
    """The PEM bytes of ``key``: the PEM text itself, or the path of a file holding it."""
    if "-----BEGIN" in key:
        return key.strip().encode() + b"\n"
    path = Path(key).expanduser()
    try:
        return path.read_bytes()
    except OSError as error:
        raise ValueError(
            f"the DKIM key is neither PEM text nor a readable file: {path}: {error.strerror}"
        ) from error


class DkimSigner:
    """Signs whole messages (bytes with CRLF line ends) for one selector and domain."""

    def __init__(self, key: str, *, selector: str, domain: str) -> None:
        if not selector or not domain:
            raise ValueError("DKIM signing needs a selector and a domain")
        try:
            private = serialization.load_pem_private_key(read_key(key), password=None)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"the DKIM key is not an unencrypted PEM private key: {error}"
            ) from error
        if isinstance(private, rsa.RSAPrivateKey):
            if private.key_size < 1024:
                raise ValueError("the DKIM RSA key is shorter than 1024 bits (use 2048)")
            self.algorithm = b"rsa-sha256"
        elif isinstance(private, ed25519.Ed25519PrivateKey):
            self.algorithm = b"ed25519-sha256"
        else:
            raise ValueError("the DKIM key must be an RSA or Ed25519 private key")
        self._key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey = private
        self.selector = selector
        self.domain = domain

    def sign(self, message: bytes) -> bytes:
        """``message`` with a ``DKIM-Signature`` header in front."""
        headers, body = dkim.rfc822_parse(message)
        present = {name.lower() for name, _ in headers}
        include = [n.lower().encode() for n in SIGNED_HEADERS if n.lower().encode() in present]
        policy = dkim.CanonicalizationPolicy.from_c_value(CANONICALIZATION)
        body_hash = base64.b64encode(hashlib.sha256(policy.canonicalize_body(body)).digest())
        fields = [
            (b"v", b"1"),
            (b"a", self.algorithm),
            (b"c", CANONICALIZATION),
            (b"d", self.domain.encode()),
            (b"i", b"@" + self.domain.encode()),
            (b"q", b"dns/txt"),
            (b"s", self.selector.encode()),
            (b"t", str(int(time.time())).encode()),
            (b"h", b" : ".join(include)),
            (b"bh", body_hash),
            # A placeholder as long as a folded line, so that b= starts a line of its own and
            # the lines before fold the same way once the signature replaces it (dkimpy's way).
            (b"b", b"0" * 60),
        ]
        value: bytes = dkim.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(HEADER))
        value = dkim.RE_BTAG.sub(b"\\1", value)
        digest = hashlib.sha256()
        dkim.hash_headers(
            digest,
            policy,
            policy.canonicalize_headers(headers),
            include,
            (HEADER, b" " + value),
            {},
        )
        fields[-1] = (b"b", base64.b64encode(self._sign(digest.digest())))
        value = dkim.fold(b"; ".join(b"=".join(f) for f in fields) + b"\r\n", namelen=len(HEADER))
        return HEADER + b": " + value + message

    def _sign(self, digest: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        return self._key.sign(digest)  # RFC 8463: Ed25519 over the SHA-256 of the headers

    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def dns_record(self) -> str:
        """The TXT record that publishes the public key (``v=DKIM1; k=...; p=...``)."""
        public = self._key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"
