"""API authentication for people: `Authorization: Bearer rgp_…` with a personal token."""

from rest_framework import authentication, exceptions

from integrations.tokens import TOKEN_PREFIX, authenticate_token


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) != 2 or header[0] != self.keyword or not header[1].startswith(TOKEN_PREFIX):
            return None
        token = authenticate_token(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown, expired or revoked token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="regent"'
