"""API authentication for agents: `Authorization: Bearer rgt_…` with a key issued in the admin."""

from dataclasses import dataclass

from rest_framework import authentication, exceptions

from orchestration.keys import KEY_PREFIX, authenticate_agent_key
from orchestration.models import Agent


@dataclass(frozen=True)
class AgentPrincipal:
    """Stands in for request.user when an agent calls: authenticated, never staff, no permissions."""

    agent: Agent
    is_agent: bool = True  # how restapi.permissions tells an agent from a person without importing the registry
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False

    def has_perm(self, perm: str, obj=None) -> bool:
        return False

    def get_username(self) -> str:
        return f"agent:{self.agent.slug}"


class AgentKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword or not (len(header) == 2 and header[1].startswith(KEY_PREFIX)):
            return None
        agent = authenticate_agent_key(header[1])
        if agent is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return AgentPrincipal(agent), agent

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="regent"'


class IsAgent:
    """Only an agent authenticated by its API key."""

    message = "This endpoint is for agents: authenticate with the agent's API key."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Agent)

    def has_object_permission(self, request, view, obj) -> bool:
        return self.has_permission(request, view)
