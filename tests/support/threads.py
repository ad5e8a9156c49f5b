"""Work in a thread of its own, as a second client of the database would do it (race and lock-order tests)."""

import threading
from collections.abc import Callable

from django.db import connection


def in_thread(target: Callable, errors: list, *args) -> threading.Thread:
    """Start `target(*args)` in a thread with its own database connection; what it raises lands in `errors`."""

    def body() -> None:
        try:
            target(*args)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread
