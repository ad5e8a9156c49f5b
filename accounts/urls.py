from django.urls import path

from accounts import oidc, views

# Before django.contrib.auth.urls under accounts/, so this login page is the one served. The callback's name is
# the one mozilla-django-oidc reverses for the redirect URI registered at the provider.
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("sso/start/", oidc.SignInStart.as_view(), name="oidc_authentication_init"),
    path("sso/callback/", oidc.SignInCallback.as_view(), name="oidc_authentication_callback"),
    path("sso/refused/", views.sso_refused, name="sso-refused"),
]
