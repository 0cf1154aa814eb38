"""The TLS client context of outgoing connections (webhooks, SMS providers, SMTP): certificates
checked against certifi's CA bundle.

Built once per process and shared: loading the bundle costs about 20 ms, which each webhook
sender, SMS provider and SMTP transport paid again when it was created. A client context is
safe to share between connections and threads once configured, and none of its users changes
it (SMTP's ``?verify=false`` makes a context of its own).
"""

from __future__ import annotations

import functools
import ssl

import certifi


@functools.cache
def verified_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())
