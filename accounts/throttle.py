"""Failed password logins per username, counted in the cache (Redis when REDIS_URL is set, so every process
shares the count), and the lock that follows LOGIN_FAILURE_LIMIT of them within LOGIN_LOCKOUT_SECONDS.

Per username, wherever the attempts come from, so guesses spread over many addresses are stopped as well;
single sign-on is never locked.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache


def _key(username: str) -> str:
    return "login-failures:" + hashlib.sha256(username.casefold().encode()).hexdigest()


def seconds_locked(username: str) -> int:
    """Seconds until password login is allowed again for this username; 0 when it is."""
    until = cache.get(_key(username) + ":locked")
    return max(0, math.ceil(until - time.time())) if until else 0


def record_failure(username: str) -> int:
    """Count one failed attempt; the seconds the username is now locked for (0 while under the limit)."""
    key, window = _key(username), settings.LOGIN_LOCKOUT_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        failures = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, failures := 1, timeout=window)
    if failures < settings.LOGIN_FAILURE_LIMIT:
        return 0
    cache.set(key + ":locked", time.time() + window, timeout=window)
    cache.delete(key)
    return window


def forget(username: str) -> None:
    """A successful login starts the count again."""
    cache.delete(_key(username))
