"""Keep secrets out of logs: a filter that masks bearer tokens and `token=` query values in
every record (uvicorn's access log writes request URLs, which is where SSE tokens would leak)."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"\bpl[sb]_[A-Za-z0-9_-]{20,}"), "[redacted-token]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        # redact the parts, not the formatted message: formatters such as uvicorn's access
        # formatter read `record.args` themselves
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install_redaction() -> None:
    """Attach the filter to the root handlers and to uvicorn's loggers (idempotent)."""
    names = ["", "uvicorn", "uvicorn.access", "uvicorn.error", "plutarc"]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
