from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import signin
from accounts.oidc import REFUSED_UNMAPPED
from accounts.passwords import PasswordLoginForm


class LoginView(auth_views.LoginView):
    """The one login page, the admin's too: the password form (unless PASSWORD_LOGIN is off) and single sign-on."""

    form_class = PasswordLoginForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **kwargs,
            password_login=settings.PASSWORD_LOGIN,
            sso_name=settings.OIDC_PROVIDER_NAME if signin.enabled() else "",
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.PASSWORD_LOGIN:
            context = self.get_context_data(password_refused=True)
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: PasswordLoginForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


def sso_refused(request: HttpRequest) -> HttpResponse:
    """Where a single sign-on that did not end in a session lands, saying why when Regent knows."""
    context = {"unmapped": request.session.pop(REFUSED_UNMAPPED, False), "sso_name": settings.OIDC_PROVIDER_NAME}
    return render(request, "registration/sso_refused.html", context, status=403)
