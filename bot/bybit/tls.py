"""TLS trust for exchange connections: a given CA (file or PEM text) or the system store.

The local exchange serves a self-signed CA; real Bybit is trusted through the system store.
One `ssl.SSLContext` is built here and shared by REST, the private stream and market data.
"""

from __future__ import annotations

import ssl
from pathlib import Path

CaSource = str | Path | ssl.SSLContext | None


def ssl_context(ca: CaSource = None) -> ssl.SSLContext:
    """A verifying client context trusting ``ca`` (path or PEM text), else the system store."""
    if isinstance(ca, ssl.SSLContext):
        return ca
    if ca is None:
        return ssl.create_default_context()
    text = str(ca)
    if "-----BEGIN CERTIFICATE-----" in text:
        return ssl.create_default_context(cadata=text)
    return ssl.create_default_context(cafile=text)
