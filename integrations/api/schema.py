"""How the OpenAPI schema describes Regent's two bearer credentials (imported by the app's ready())."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class AgentKeyScheme(OpenApiAuthenticationExtension):
    target_class = "orchestration.api.authentication.AgentKeyAuthentication"
    name = "agentKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "An agent's API key: `Bearer rgt_…`."}


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.api.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer", "description": "A person's API token: `Bearer rgp_…`."}
