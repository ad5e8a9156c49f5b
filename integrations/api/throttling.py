"""Rate limits per caller: per agent key, per personal token, per signed-in person, per address otherwise."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from integrations.models import PersonalToken
from orchestration.models import Agent


class PerCallerThrottle(SimpleRateThrottle):
    scope = "caller"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE  # read per request, so it can be changed without a restart of DRF

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, Agent):
            ident = f"agent-{request.auth.pk}"
        elif isinstance(request.auth, PersonalToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def wait(self) -> float:
        """Seconds until the window holds one request fewer than the rate, so one more is allowed.

        DRF's own estimate is None once a caller is over by more than one (several processes counting at
        once, or a rate lowered meanwhile), and the 429 then goes without Retry-After.
        """
        oldest_to_expire = self.history[min(self.num_requests, len(self.history)) - 1] if self.history else self.now
        return self.duration - (self.now - oldest_to_expire)
