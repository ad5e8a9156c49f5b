"""Logging filters the settings install."""

import logging


class RefusalsOnOneLine(logging.Filter):
    """A refused request (a 4xx, such as a 403 for a role that may not see a page) is expected: log its one line
    ("Forbidden (Permission denied): /audit/"), not the traceback of the exception that refused it."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info, record.exc_text = None, None
        return True
