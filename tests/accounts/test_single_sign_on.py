"""Single sign-on through a real OpenID Connect provider (tests/fixtures/identity.py): the Django test client
follows Regent's redirect to the provider, the person approves there, and the provider's redirect back is followed
to Regent's callback, which exchanges the code, checks the ID token's signature and reads the userinfo over HTTP.

grace is a supervisor at Northwind whose provider groups say so; heidi is in no group Regent knows.
"""

import pytest
from django.contrib.auth.models import User

from accounts.models import GroupMapping, SignInIdentity
from audit.models import AuditEvent
from orchestration.roles import Role, roles_of
from orchestration.scoping import visible_departments
from tests.support.audit import wait_until_sequenced

pytestmark = pytest.mark.django_db


@pytest.fixture
def mappings(finance, support):
    supervisors = GroupMapping.objects.create(idp_group="regent-supervisors", role=Role.SUPERVISOR)
    finance_team = GroupMapping.objects.create(idp_group="finance-team")
    finance_team.departments.add(finance)
    GroupMapping.objects.create(idp_group="regent-auditors", role=Role.AUDITOR)
    return supervisors, finance_team


def sign_in(client, provider, subject: str):
    """Start at Regent's "Sign in with" link, approve as `subject` at the provider, follow it back to Regent."""
    start = client.get("/accounts/sso/start/")
    assert start.status_code == 302 and start["Location"].startswith(provider.url)
    return client.get(provider.approve(start["Location"], subject), follow=True)


def audit_after(user: User) -> list[tuple[str, dict]]:
    wait_until_sequenced()
    events = AuditEvent.objects.filter(subject_type="user", subject_id=str(user.pk)).order_by("seq")
    return [(event.kind, event.after) for event in events]


def test_the_login_page_offers_the_provider_only_when_single_sign_on_is_configured(client, settings):
    # Given no single sign-on configured, the page has the password form alone
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in page and 'name="password"' in page

    # When a provider is configured, the page offers it beside the password form
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_PROVIDER_NAME = "regent", "Northwind ID"
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Northwind ID" in page and 'name="password"' in page


def test_the_sign_in_links_do_not_exist_without_single_sign_on(client):
    assert client.get("/accounts/sso/start/").status_code == 404
    assert client.get("/accounts/sso/callback/?code=x&state=y").status_code == 404


def test_a_person_signs_in_and_their_groups_give_them_a_role_and_the_departments_they_oversee(
    client, identity_provider, mappings, finance, support
):
    # Given grace is a supervisor of the finance team at the provider
    identity_provider.has_person(
        "grace-0001",
        ["regent-supervisors", "finance-team", "all-staff"],
        preferred_username="grace",
        email="grace@northwind.example",
        given_name="Grace",
        family_name="Hopper",
    )

    # When she signs in with the provider
    response = sign_in(client, identity_provider, "grace-0001")

    # Then she lands on the overview, signed in as a Supervisor who oversees Finance only
    assert response.status_code == 200 and response.request["PATH_INFO"] == "/"
    grace = User.objects.get(username="grace")
    assert response.wsgi_request.user == grace
    assert (grace.email, grace.get_full_name(), grace.has_usable_password()) == (
        "grace@northwind.example",
        "Grace Hopper",
        False,
    )
    assert roles_of(grace) == {Role.SUPERVISOR}
    assert list(visible_departments(grace)) == [finance]
    assert SignInIdentity.objects.get(user=grace).groups == ["all-staff", "finance-team", "regent-supervisors"]
    # And what she was given is in the audit log, made by the sign-in
    assert audit_after(grace) == [
        ("role.changed", {"user": "grace", "added": [Role.SUPERVISOR]}),
        ("supervision.changed", {"user": "grace", "added": ["Finance"]}),
    ]
    assert set(AuditEvent.objects.filter(subject_id=str(grace.pk)).values_list("actor_label", flat=True)) == {
        "sso:Northwind ID"
    }


def test_a_later_sign_in_with_changed_groups_takes_away_what_they_no_longer_give(
    client, identity_provider, mappings, finance
):
    # Given grace signed in once as a supervisor of Finance
    identity_provider.has_person("grace-0001", ["regent-supervisors", "finance-team"], preferred_username="grace")
    sign_in(client, identity_provider, "grace-0001")
    client.logout()

    # When she moves to internal audit at the provider and signs in again
    identity_provider.has_person("grace-0001", ["regent-auditors"], preferred_username="grace")
    response = sign_in(client, identity_provider, "grace-0001")

    # Then she is the same person, now an Auditor only, overseeing no department of her own
    assert response.status_code == 200
    grace = User.objects.get(username="grace")
    assert response.wsgi_request.user == grace and User.objects.filter(username__startswith="grace").count() == 1
    assert roles_of(grace) == {Role.AUDITOR}
    assert not grace.supervised_departments.exists()
    # And each change is audited, the removals too
    assert audit_after(grace)[2:] == [
        ("role.changed", {"user": "grace", "removed": [Role.SUPERVISOR]}),
        ("role.changed", {"user": "grace", "added": [Role.AUDITOR]}),
        ("supervision.changed", {"user": "grace", "removed": ["Finance"]}),
    ]


def test_a_person_in_no_mapped_group_is_refused_with_a_page_that_says_why(client, identity_provider, mappings):
    # Given heidi is known to the provider only as staff
    identity_provider.has_person("heidi-0002", ["all-staff"], preferred_username="heidi")

    # When she signs in with the provider
    response = sign_in(client, identity_provider, "heidi-0002")

    # Then Regent refuses her, saying her groups give no access, and makes no account for her
    assert response.status_code == 403
    assert "none of your groups there gives access to Regent" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert not User.objects.filter(username="heidi").exists()


def test_someone_whose_groups_no_longer_give_access_loses_their_roles_and_is_refused(
    client, identity_provider, mappings
):
    # Given grace signed in once as a supervisor
    identity_provider.has_person("grace-0001", ["regent-supervisors", "finance-team"], preferred_username="grace")
    sign_in(client, identity_provider, "grace-0001")
    client.logout()

    # When she leaves every Regent group at the provider and signs in again
    identity_provider.has_person("grace-0001", ["all-staff"], preferred_username="grace")
    response = sign_in(client, identity_provider, "grace-0001")

    # Then she is refused, and holds no role or department any more
    assert response.status_code == 403 and not response.wsgi_request.user.is_authenticated
    grace = User.objects.get(username="grace")
    assert roles_of(grace) == set() and not grace.supervised_departments.exists() and not grace.is_staff


def test_an_account_at_the_provider_never_takes_over_a_local_one_with_the_same_name_or_email(
    client, identity_provider, mappings, alice
):
    # Given alice, an Executive with a local password, and someone at the provider using her name and email
    identity_provider.has_person("mallory-0003", ["regent-auditors"], preferred_username="alice", email=alice.email)

    # When that person signs in with the provider
    response = sign_in(client, identity_provider, "mallory-0003")

    # Then they are signed in as a new person of their own, and alice is untouched
    newcomer = response.wsgi_request.user
    assert newcomer.is_authenticated and newcomer != alice and newcomer.username.startswith("alice-")
    alice.refresh_from_db()
    assert roles_of(alice) == {Role.EXECUTIVE} and not SignInIdentity.objects.filter(user=alice).exists()


def test_the_provider_being_unreachable_ends_on_the_refusal_page_not_an_error(client, identity_provider, settings):
    # Given the provider's token endpoint cannot be reached
    identity_provider.has_person("grace-0001", ["regent-supervisors"])
    start = client.get("/accounts/sso/start/")
    back = identity_provider.approve(start["Location"], "grace-0001")
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/oauth2/token"

    # When the provider sends her back to Regent
    response = client.get(back, follow=True)

    # Then she reads that the sign-in did not complete
    assert response.status_code == 403
    assert "did not complete" in response.content.decode()


def test_making_someone_inactive_ends_the_session_they_opened_with_the_provider(client, identity_provider, mappings):
    # Given grace is signed in with the provider
    identity_provider.has_person("grace-0001", ["regent-auditors"], preferred_username="grace")
    sign_in(client, identity_provider, "grace-0001")
    assert client.get("/").status_code == 200

    # When an administrator makes her account inactive
    User.objects.filter(username="grace").update(is_active=False)

    # Then her next page asks her to log in
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_id_token_from_another_issuer_than_the_configured_one_is_refused(
    client, identity_provider, mappings, settings
):
    # Given grace may sign in, and Regent trusts only the provider's own issuer
    identity_provider.has_person("grace-0001", ["regent-auditors"], preferred_username="grace")
    settings.OIDC_OP_ISSUER = identity_provider.url
    assert sign_in(client, identity_provider, "grace-0001").wsgi_request.user.is_authenticated
    client.logout()

    # When Regent is configured for another issuer than the one signing the tokens
    settings.OIDC_OP_ISSUER = "https://id.northwind.example"
    response = sign_in(client, identity_provider, "grace-0001")

    # Then the sign-in is refused
    assert response.status_code == 403 and not response.wsgi_request.user.is_authenticated
    assert "did not complete" in response.content.decode()
