"""Changing a webhook subscription over the API: held to the scope rule of a new one, audited in the
subscription's department, secret kept out. bob supervises Finance only; carol is a Policy Admin."""

import json

import pytest

from audit.models import AuditEvent
from integrations import webhooks
from integrations.models import WebhookSubscription

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/regent"


def test_a_supervisor_changes_their_subscription(client_for, world, bob, finance):
    # Given bob's subscription to Finance's decisions
    subscription = webhooks.subscribe(HOOK, ["decision.created"], by=bob, departments=[finance])

    # When he points it elsewhere and widens its event types
    response = client_for("bob").patch(
        f"/api/v1/webhooks/{subscription.pk}",
        {"url": "https://erp.example.com/in", "event_types": ["approval.requested", "decision.created"]},
        format="json",
    )

    # Then it is changed, in Finance still, and the secret is not shown again
    assert response.status_code == 200, response.content
    assert "secret" not in response.json()
    subscription.refresh_from_db()
    assert (subscription.url, subscription.event_types, list(subscription.departments.all())) == (
        "https://erp.example.com/in",
        ["approval.requested", "decision.created"],
        [finance],
    )


@pytest.mark.parametrize("departments", [["support"], ["finance", "support"], []], ids=["other", "mixed", "all"])
def test_a_supervisor_cannot_change_a_subscription_beyond_their_departments(
    client_for, world, bob, finance, support, departments
):
    # Given bob's subscription to Finance's events
    subscription = webhooks.subscribe(HOOK, ["*"], by=bob, departments=[finance])
    ids = [{"finance": finance.pk, "support": support.pk}[name] for name in departments]

    # When he moves it to Support's events, adds Support's, or makes it the whole organisation's
    response = client_for("bob").patch(f"/api/v1/webhooks/{subscription.pk}", {"departments": ids}, format="json")

    # Then he is told why on the departments field, and it still hears Finance only
    assert response.status_code == 400
    assert response.json()["fields"]["departments"]
    assert list(subscription.departments.all()) == [finance]
    assert not AuditEvent.objects.filter(kind="webhook.changed").exists()


def test_a_supervisor_cannot_change_a_subscription_outside_their_scope(client_for, world, carol, finance, support):
    # Given subscriptions to Support's events, to both departments' and to the whole organisation's
    others = [
        webhooks.subscribe(HOOK, ["*"], by=carol, departments=[support]),
        webhooks.subscribe(HOOK, ["*"], by=carol, departments=[finance, support]),
        webhooks.subscribe(HOOK, ["*"], by=carol),
    ]
    bobs = client_for("bob")

    # When bob tries to turn each off
    statuses = {bobs.patch(f"/api/v1/webhooks/{s.pk}", {"active": False}, format="json").status_code for s in others}

    # Then none exists for him, and all stay on
    assert statuses == {404}
    assert WebhookSubscription.objects.filter(active=True).count() == 3


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"url": "not a url"}, {"url"}),
        ({"event_types": []}, {"event_types"}),
        ({"event_types": ["Decision Created"]}, {"event_types"}),
        ({"departments": [999999]}, {"departments"}),
        ({"active": "perhaps"}, {"active"}),
    ],
)
def test_bad_changes_are_field_errors(client_for, world, carol, body, fields):
    # Given carol's subscription
    subscription = webhooks.subscribe(HOOK, ["*"], by=carol)

    # When she sends a change that is not valid
    response = client_for("carol").patch(f"/api/v1/webhooks/{subscription.pk}", body, format="json")

    # Then it is a 400 naming the field, and nothing changed
    assert response.status_code == 400
    assert set(response.json()["fields"]) == fields
    unchanged = WebhookSubscription.objects.get()
    assert (unchanged.url, unchanged.event_types, unchanged.active) == (HOOK, ["*"], True)


def test_turning_a_disabled_subscription_back_on_forgets_its_failures(client_for, world, carol):
    # Given a subscription disabled after its deliveries kept failing
    subscription = webhooks.subscribe(HOOK, ["*"], by=carol)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=5)
    webhooks.disable(subscription, "5 deliveries in a row failed; last: HTTP 500")

    # When carol turns it back on
    response = client_for("carol").patch(f"/api/v1/webhooks/{subscription.pk}", {"active": True}, format="json")

    # Then it is on, with no failures counted and no reason to be off
    assert response.status_code == 200, response.content
    assert (response.json()["active"], response.json()["consecutive_failures"]) == (True, 0)
    subscription.refresh_from_db()
    assert (subscription.active, subscription.consecutive_failures, subscription.disabled_reason) == (True, 0, "")


def test_turning_a_subscription_off_says_who_did(client_for, world, carol):
    subscription = webhooks.subscribe(HOOK, ["*"], by=carol)

    response = client_for("carol").patch(f"/api/v1/webhooks/{subscription.pk}", {"active": False}, format="json")

    assert (response.json()["active"], response.json()["disabled_reason"]) == (False, "Turned off by carol.")


def test_a_change_is_audited_with_before_and_after_and_never_the_secret(client_for, world, bob, finance):
    # Given bob's subscription to Finance's decisions
    subscription = webhooks.subscribe(HOOK, ["decision.created"], by=bob, departments=[finance])

    # When he changes its event types
    client_for("bob").patch(f"/api/v1/webhooks/{subscription.pk}", {"event_types": ["*"]}, format="json")

    # Then one webhook.changed event records it, by him, in Finance, without the secret
    event = AuditEvent.objects.get(kind="webhook.changed")
    assert (event.actor, event.department_id, event.before["event_types"], event.after["event_types"]) == (
        bob,
        finance.pk,
        ["decision.created"],
        ["*"],
    )
    assert subscription.secret not in json.dumps([event.before, event.after])


def test_a_change_that_changes_nothing_is_not_audited(client_for, world, carol):
    subscription = webhooks.subscribe(HOOK, ["*"], by=carol)

    client_for("carol").patch(f"/api/v1/webhooks/{subscription.pk}", {"url": HOOK}, format="json")

    assert not AuditEvent.objects.filter(kind="webhook.changed").exists()


def test_a_supervisors_audit_log_shows_their_subscriptions_life(client_for, world, finance):
    # Given bob subscribes to Finance's events, changes the subscription and removes it, over the API
    bobs = client_for("bob")
    created = bobs.post(
        "/api/v1/webhooks", {"url": HOOK, "event_types": ["*"], "departments": [finance.pk]}, format="json"
    ).json()
    bobs.patch(f"/api/v1/webhooks/{created['id']}", {"active": False}, format="json")
    bobs.delete(f"/api/v1/webhooks/{created['id']}")

    # When he reads his audit log for subscriptions
    body = bobs.get("/api/v1/audit-events", {"subject_type": "webhook_subscription"}).json()

    # Then all three are there, none carrying the secret
    assert [row["kind"] for row in body["results"]] == ["webhook.subscribed", "webhook.changed", "webhook.unsubscribed"]
    assert created["secret"] not in json.dumps(body)


@pytest.mark.parametrize("names", [[], ["finance", "support"]], ids=["organisation", "two-departments"])
def test_a_subscription_naming_no_single_department_is_audited_in_none(world, carol, finance, support, names):
    # Given carol subscribes to the whole organisation's events, or to two departments'
    departments = [{"finance": finance, "support": support}[name] for name in names]

    # When she subscribes
    webhooks.subscribe(HOOK, ["*"], by=carol, departments=departments)

    # Then the event belongs to no department: no Supervisor's log shows it
    assert AuditEvent.objects.get(kind="webhook.subscribed").department_id is None
