"""W3C Trace Context: the `traceparent` an agent sends with a request, read as (trace id, span id).

A value that does not follow the specification is ignored, as the specification asks of a receiver: the
request is served, only without its trace.
"""

import re

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """The trace id (32 hex digits) and parent span id (16) in a traceparent header, or None."""
    match = _TRACEPARENT.match((value or "").strip())
    if match is None:
        return None
    version, trace_id, span_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return trace_id, span_id
