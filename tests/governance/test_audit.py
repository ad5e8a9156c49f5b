"""The audit chain: every change that matters is recorded with who did it, and tampering is found.

Decisions, policy changes, agent status changes, key rotations and role changes each append one event
inside the transaction of the change. `verify_chain` and `manage.py verify_audit` name the first event
whose link or content does not hold. On PostgreSQL a trigger refuses UPDATE and DELETE outright, so the
tampering tests there switch it off the way a database superuser could.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import psycopg
import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import chain, events
from audit.chain import verify_chain
from audit.middleware import AuditActorMiddleware
from audit.models import AuditChainHead, AuditEvent
from governance.models import Decision, Effect
from governance.policies import record_policy_version
from orchestration.keys import issue_key, revoke_agent_keys, rotate_agent_key
from orchestration.kill_switch import change_agent_status
from orchestration.models import Status
from orchestration.roles import Role
from tests.factories import PolicyFactory, UserFactory
from tests.support.audit import wait_until_sequenced

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs the PostgreSQL trigger: set DATABASE_URL=postgres://…"
)


class Abort(Exception):
    """Raised inside a transaction to roll it back."""


def events_of(subject_type: str, subject_id) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(subject_type=subject_type, subject_id=str(subject_id)))


def event_of(decision: Decision) -> AuditEvent:
    return AuditEvent.objects.get(kind="decision.created", subject_id=str(decision.pk))


def tamper_with_after(seq: int, after: dict) -> None:
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE governance_auditevent SET after = %s{cast} WHERE seq = %s", [json.dumps(after), seq])  # noqa: S608


def delete_event(seq: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE seq = %s", [seq])


@contextmanager
def behind_the_applications_back() -> Iterator[None]:
    """Rewrite history as someone with direct database access could.

    SQLite has no trigger to stop it. On PostgreSQL the append-only trigger refuses, so do what a
    superuser can: switch triggers off for this session.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def three_decisions(decide, finance_agent) -> list[Decision]:
    return [decide(finance_agent, amount=amount, currency="EUR") for amount in (100, 200, 300)]


# Decisions


def test_each_decision_appends_one_decision_created_event(decide, finance_agent):
    # Given the chain as it stands
    before = AuditEvent.objects.count()

    # When the Finance agent asks once
    decision = decide(finance_agent, amount=120, currency="EUR")

    # Then exactly one event is appended: the decision, by the agent, in Finance, with its verdict and amount
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("seq")
    assert (event.kind, event.subject_type, event.subject_id) == ("decision.created", "decision", str(decision.pk))
    assert (event.actor_label, event.department_id) == ("agent:invoice-bot", finance_agent.department_id)
    assert event.occurred_at == decision.created_at
    assert event.before is None
    assert (event.after["verdict"], event.after["amount"], event.after["currency"]) == ("allow", "120", "EUR")


def test_a_decision_rolled_back_leaves_no_audit_event(decide, finance_agent):
    # Given the chain as it stands
    events_before = AuditEvent.objects.count()

    # When a decision is made inside a transaction that then fails
    with pytest.raises(Abort), transaction.atomic():
        decide(finance_agent)
        raise Abort

    # Then neither the decision nor its event was kept, and the chain still holds
    assert not Decision.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert verify_chain().ok


# A change that records several events appends them together.


def test_events_recorded_in_a_batch_join_the_chain_in_order_under_one_lock_and_go_live_together(
    django_capture_on_commit_callbacks,
):
    # Given a listener on live events
    heard: list[list[dict]] = []
    events.add_local_listener(heard.append)

    # When a change records three events in a batch, one of them from inside a nested batch
    try:
        with (
            django_capture_on_commit_callbacks(execute=True),
            transaction.atomic(),
            CaptureQueriesContext(connection) as statements,
            chain.batch(),
        ):
            for n in (1, 2):
                chain.record("test.step", subject_type="test", subject_id=n, actor_label="system:test")
            with chain.batch():
                chain.record("test.step", subject_type="test", subject_id=3, actor_label="system:test")
    finally:
        events.remove_local_listener(heard.append)

    # Then the chain head was read (locked, on PostgreSQL) and moved once, the events follow each other in the
    # order recorded, the chain holds, and they went live in one message
    head = [q["sql"].split()[0] for q in statements.captured_queries if "governance_auditchainhead" in q["sql"]]
    assert head == ["SELECT", "UPDATE"]
    recorded = list(AuditEvent.objects.filter(kind="test.step").order_by("seq"))
    assert [e.subject_id for e in recorded] == ["1", "2", "3"]
    assert [e.seq for e in recorded] == list(range(recorded[0].seq, recorded[0].seq + 3))
    assert verify_chain().ok
    assert [[e["subject"]["id"] for e in message] for message in heard] == [["1", "2", "3"]]


def test_a_batch_that_raises_appends_nothing():
    # Given the chain as it stands
    before = AuditEvent.objects.count()

    # When a change records an event in a batch, then fails
    with pytest.raises(Abort), transaction.atomic(), chain.batch():
        chain.record("test.step", subject_type="test", subject_id=1, actor_label="system:test")
        raise Abort

    # Then nothing was appended, and the next event still joins an intact chain
    assert AuditEvent.objects.count() == before
    with transaction.atomic():
        chain.record("test.step", subject_type="test", subject_id=2, actor_label="system:test")
    assert verify_chain().ok


# Other changes that matter: who did it, and what was there before and after


def test_a_policy_change_is_audited_with_its_author_and_both_versions(carol, make_policy):
    # Given a flag policy at version 1
    policy = make_policy(name="Watch refunds", effect=Effect.FLAG)

    # When carol changes it to deny
    policy.effect = Effect.DENY
    policy.save()
    version = record_policy_version(policy, by=carol)

    # Then the last event for the policy is hers, and holds the flag version before and the deny version after
    event = events_of("policy", policy.pk)[-1]
    assert (event.kind, event.actor, event.actor_label) == ("policy.changed", carol, "user:carol")
    assert (event.before["effect"], event.after["effect"]) == ("flag", "deny")
    assert (event.after["version"], event.after["version_id"]) == (2, version.pk)


def test_a_new_policy_is_audited_with_nothing_before(carol):
    # Given a policy just saved
    policy = PolicyFactory(name="No refunds")

    # When carol records its first version
    record_policy_version(policy, by=carol)

    # Then its event has no before and version 1 after
    (event,) = events_of("policy", policy.pk)
    assert (event.actor, event.before, event.after["name"], event.after["version"]) == (carol, None, "No refunds", 1)


def test_an_agent_status_change_is_audited_with_who_and_both_statuses(bob, finance_agent):
    # When bob pauses the Finance agent
    changed = change_agent_status(finance_agent, Status.PAUSED, by=bob)

    # Then one event records him, the agent's department, and active before paused
    assert changed
    (event,) = events_of("agent", finance_agent.pk)
    assert (event.kind, event.actor, event.actor_label) == ("agent.status_changed", bob, "user:bob")
    assert event.department_id == finance_agent.department_id
    assert (event.before, event.after) == ({"status": "active"}, {"status": "paused"})


def test_setting_an_agent_to_the_status_it_has_records_nothing(bob, finance_agent):
    # When bob "resumes" an agent that is already active
    changed = change_agent_status(finance_agent, Status.ACTIVE, by=bob)

    # Then nothing changed and nothing is recorded
    assert not changed
    assert events_of("agent", finance_agent.pk) == []


def test_a_key_rotation_is_audited_with_who_and_the_new_keys_prefix(carol, finance_agent):
    # When carol rotates the Finance agent's key
    raw_key = rotate_agent_key(finance_agent, by=carol)

    # Then one event records her and the public start of the new key, never the secret
    (event,) = events_of("agent", finance_agent.pk)
    assert (event.kind, event.actor, event.department_id) == ("agent.key_rotated", carol, finance_agent.department_id)
    assert raw_key.startswith(event.after["prefix"])
    assert raw_key not in json.dumps(event.after)


def test_a_key_revocation_is_audited_with_who_and_how_many(carol, finance_agent):
    # Given the Finance agent holds two keys
    issue_key(finance_agent)
    issue_key(finance_agent)

    # When carol revokes its keys
    revoke_agent_keys(finance_agent, by=carol)

    # Then one event records her and the two keys revoked
    (event,) = events_of("agent", finance_agent.pk)
    assert (event.kind, event.actor, event.after) == ("agent.keys_revoked", carol, {"revoked": 2})


def test_giving_someone_a_role_is_audited(erin):
    # When erin is made an Auditor
    erin.groups.add(Group.objects.get(name=Role.AUDITOR))

    # Then the event names her and the role she gained
    (event,) = events_of("user", erin.pk)
    assert event.kind == "role.changed"
    assert (event.before, event.after) == (None, {"user": "erin", "added": [Role.AUDITOR]})


def test_a_role_given_during_a_request_names_the_person_who_gave_it(erin, rf):
    # Given a request made by an administrator
    admin_user = UserFactory(username="root", is_superuser=True)
    request = rf.post("/admin/auth/user/")
    request.user = admin_user

    def give_role(_request):
        erin.groups.add(Group.objects.get(name=Role.AUDITOR))
        return HttpResponse()

    # When erin is made an Auditor while that request is served
    AuditActorMiddleware(give_role)(request)

    # Then the event names the administrator as the actor; outside a request nobody is named
    (event,) = events_of("user", erin.pk)
    assert (event.actor, event.actor_label) == (admin_user, "user:root")
    erin.groups.clear()
    assert events_of("user", erin.pk)[-1].actor_label == "system"


def test_taking_a_role_away_is_audited(dave):
    # When dave stops being an Auditor
    dave.groups.remove(Group.objects.get(name=Role.AUDITOR))

    # Then the last event for him names the role he lost
    event = events_of("user", dave.pk)[-1]
    assert (event.kind, event.after) == ("role.changed", {"user": "dave", "removed": [Role.AUDITOR]})


def test_making_someone_a_departments_supervisor_is_audited(erin, finance):
    # When erin is made a supervisor of Finance, from the department's side as the admin does
    finance.supervisors.add(erin)

    # Then the event names her and the department she now oversees
    (event,) = events_of("user", erin.pk)
    assert (event.kind, event.after) == ("supervision.changed", {"user": "erin", "added": ["Finance"]})


def test_taking_every_department_from_someone_is_audited_per_department(erin, finance, support):
    # Given erin oversees Finance and Customer Support
    erin.supervised_departments.add(finance, support)

    # When they are all taken from her at once, from her side
    erin.supervised_departments.clear()

    # Then one event per department says she lost it
    removed = [event.after for event in events_of("user", erin.pk) if "removed" in event.after]
    assert removed == [
        {"user": "erin", "removed": ["Customer Support"]},
        {"user": "erin", "removed": ["Finance"]},
    ]


def test_changes_made_while_acting_as_a_sign_in_name_it_as_their_actor(erin):
    # When a role is given inside a sign-in's acting_as
    with chain.acting_as("sso:Northwind ID"):
        erin.groups.add(Group.objects.get(name=Role.AUDITOR))

    # Then the event's actor is the sign-in
    (event,) = events_of("user", erin.pk)
    assert (event.actor, event.actor_label) == (None, "sso:Northwind ID")


def test_adding_someone_to_a_role_from_the_groups_side_is_audited(erin):
    # When erin is added to the Auditors from the group's side, as a script might
    Group.objects.get(name=Role.AUDITOR).user_set.add(erin)

    # Then the event names her and the role she gained, as if she had been given it
    (event,) = events_of("user", erin.pk)
    assert (event.kind, event.after) == ("role.changed", {"user": "erin", "added": [Role.AUDITOR]})


def test_emptying_a_role_from_the_groups_side_is_audited(dave):
    # When the Auditors group is emptied
    Group.objects.get(name=Role.AUDITOR).user_set.clear()

    # Then dave's last event names the role he lost
    event = events_of("user", dave.pk)[-1]
    assert (event.kind, event.after) == ("role.changed", {"user": "dave", "removed": [Role.AUDITOR]})


# Verification


def test_an_intact_chain_verifies(three_decisions):
    # When the chain is walked
    report = verify_chain()

    # Then every event is checked and nothing is broken
    assert report.ok
    assert report.checked == AuditEvent.objects.count() == AuditChainHead.objects.get().seq


def test_verify_audit_prints_the_number_of_events_on_an_intact_chain(three_decisions):
    # Given the chain as written
    out = StringIO()

    # When verify_audit runs
    call_command("verify_audit", stdout=out)

    # Then it exits normally and says how many events it verified
    assert out.getvalue().strip() == f"Audit chain intact: {AuditEvent.objects.count()} events verified."


def test_verify_chain_names_an_event_changed_behind_the_applications_back(three_decisions):
    # Given the middle decision's event rewritten behind the application's back
    seq = event_of(three_decisions[1]).seq
    with behind_the_applications_back():
        tamper_with_after(seq, {"verdict": "deny"})

    # When the chain is walked
    report = verify_chain()

    # Then that event is named, and every one before it verified
    assert (report.ok, report.broken_seq, report.checked) == (False, seq, seq - 1)
    assert report.reason == "its content does not match its hash"


def test_verify_audit_fails_naming_an_event_changed_behind_the_applications_back(three_decisions):
    # Given the middle decision's event rewritten behind the application's back
    seq = event_of(three_decisions[1]).seq
    with behind_the_applications_back():
        tamper_with_after(seq, {"verdict": "deny"})

    # When verify_audit runs
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO())

    # Then it exits non-zero naming that event
    assert failure.value.returncode != 0
    assert str(failure.value).startswith(f"Audit chain broken at event #{seq}: its content does not match its hash")


def test_verify_audit_finds_the_gap_an_event_deleted_behind_the_applications_back_leaves(three_decisions):
    # Given the middle decision's event deleted behind the application's back
    seq = event_of(three_decisions[1]).seq
    with behind_the_applications_back():
        delete_event(seq)

    # When verify_audit runs
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO())

    # Then it exits non-zero at the event after the gap, saying the sequence jumps over the missing one
    assert failure.value.returncode != 0
    assert str(failure.value).startswith(
        f"Audit chain broken at event #{seq + 1}: sequence jumps from {seq - 1} to {seq + 1}"
    )


def test_verify_chain_finds_the_newest_event_deleted_behind_the_applications_back(three_decisions):
    # Given the newest event deleted behind the application's back, so no later link points at it
    seq = event_of(three_decisions[-1]).seq
    with behind_the_applications_back():
        delete_event(seq)

    # When the chain is walked
    report = verify_chain()

    # Then the chain head, which still counts it, gives the deletion away
    assert (report.ok, report.broken_seq, report.checked) == (False, seq, seq - 1)
    assert report.reason == f"the chain head says {seq} events, {seq - 1} found"


# On PostgreSQL the table itself refuses changes.


@on_postgresql
@pytest.mark.postgres
def test_postgresql_refuses_an_update_of_an_audit_event(three_decisions):
    # Given a recorded event
    event = event_of(three_decisions[1])

    # When someone updates it with plain SQL
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        tamper_with_after(event.seq, {"verdict": "deny"})

    # Then the trigger refuses, and the event is as it was
    assert isinstance(refused.value.__cause__, psycopg.errors.InsufficientPrivilege)
    assert "governance_auditevent is append-only: UPDATE refused" in str(refused.value)
    assert AuditEvent.objects.get(seq=event.seq).after == event.after


@on_postgresql
@pytest.mark.postgres
def test_postgresql_refuses_a_delete_of_an_audit_event(three_decisions):
    # Given a recorded event
    seq = event_of(three_decisions[1]).seq

    # When someone deletes it with plain SQL
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        delete_event(seq)

    # Then the trigger refuses, and the event is still there
    assert isinstance(refused.value.__cause__, psycopg.errors.InsufficientPrivilege)
    assert "governance_auditevent is append-only: DELETE refused" in str(refused.value)
    assert AuditEvent.objects.filter(seq=seq).exists()


# The admin shows the log and never changes it.

EVERYONE = ["alice", "bob", "carol", "dave", "erin", "admin_user"]


def admin_url(view: str, *args) -> str:
    return reverse(f"admin:audit_auditevent_{view}", args=args)


@pytest.mark.parametrize("person", EVERYONE)
def test_nobody_adds_an_audit_event_in_the_admin(request, client, person):
    client.force_login(request.getfixturevalue(person))

    response = client.post(admin_url("add"), {"kind": "decision.created", "subject_type": "decision"})

    assert response.status_code == 403


@pytest.mark.parametrize("person", EVERYONE)
def test_nobody_changes_an_audit_event_in_the_admin(request, client, decide, finance_agent, person):
    # Given a recorded decision and someone signed in
    event = event_of(decide(finance_agent))
    client.force_login(request.getfixturevalue(person))

    # When they post a change to its event
    response = client.post(admin_url("change", event.seq), {"kind": "nothing.happened", "actor_label": "nobody"})

    # Then they are refused and the event is as it was
    assert response.status_code == 403
    assert AuditEvent.objects.get(seq=event.seq).kind == "decision.created"


@pytest.mark.parametrize("person", EVERYONE)
def test_nobody_deletes_an_audit_event_in_the_admin(request, client, decide, finance_agent, person):
    # Given a recorded decision and someone signed in
    event = event_of(decide(finance_agent))
    client.force_login(request.getfixturevalue(person))

    # When they confirm the deletion of its event
    response = client.post(admin_url("delete", event.seq), {"post": "yes"})

    # Then they are refused and it is still there
    assert response.status_code == 403
    assert AuditEvent.objects.filter(seq=event.seq).exists()


def test_a_supervisor_allowed_the_audit_log_sees_only_their_departments_events(
    client, bob, decide, finance_agent, support_agent
):
    # Given bob, who supervises Finance and has been allowed to read the audit log
    bob.user_permissions.add(Permission.objects.get(content_type__app_label="audit", codename="view_auditevent"))
    # And a decision in each department
    finance_event, _ = event_of(decide(finance_agent)), event_of(decide(support_agent))
    client.force_login(bob)

    # When he lists audit events
    response = client.get(admin_url("changelist"))

    # Then he sees the Finance decision's event only: not Support's, not organisation-wide events
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [finance_event]


def test_an_auditor_sees_every_audit_event(client, dave, decide, finance_agent, support_agent):
    # Given a decision in each department
    decide(finance_agent)
    decide(support_agent)
    client.force_login(dave)

    # When dave lists audit events
    response = client.get(admin_url("changelist"))

    # Then every event is there
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(AuditEvent.objects.order_by("seq"))


# Many writers at once still make one chain.

# 16 writers: with the sequencer thread and the test itself they stay within one process pool (DB_POOL_MAX, 20)
# 8 writers (each holding a pooled connection throughout) contend for the two agents' rows as 16 did; 16 beside the
# sequencer came near the pool's 20, and on a loaded machine a connection opened past DB_POOL_TIMEOUT (1 s) failed.
WRITERS, DECISIONS_EACH = 8, 20


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_form_one_unbroken_chain(decide, finance_agent, support_agent):
    # Given 8 writers, released together, each making 20 decisions for one of two agents
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            for _ in range(DECISIONS_EACH):
                decide(finance_agent if index % 2 else support_agent)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # When they all write at once
    threads = [threading.Thread(target=write, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    # Then every decision has its event, the events are numbered 1..N without a gap, and the chain verifies
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    wait_until_sequenced()
    assert AuditEvent.objects.filter(kind="decision.created").count() == WRITERS * DECISIONS_EACH
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AuditChainHead.objects.get().seq == len(seqs)
    report = verify_chain()
    assert (report.ok, report.checked) == (True, len(seqs))


# On PostgreSQL the audit table's trigger announces every append to the stream servers at commit.


@contextmanager
def listening() -> Iterator[psycopg.Connection]:
    """A connection of its own LISTENing on the stream's channel, as a stream server's hub does."""
    settings_dict = connection.settings_dict
    with psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"],
        password=settings_dict["PASSWORD"] or None,
        autocommit=True,
    ) as listener:
        listener.execute(f"LISTEN {events.NOTIFY_CHANNEL}")
        yield listener


def announced(listener: psycopg.Connection) -> list[str]:
    return [n.payload for n in listener.notifies(timeout=1.0)]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_committed_events_are_announced_in_seq_order_carrying_their_stream_shape(inline):
    with listening() as listener:
        # When two transactions each append events
        for subjects in ((1, 2), (3,)):
            with transaction.atomic(), chain.batch():
                for n in subjects:
                    chain.record("test.step", subject_type="test", subject_id=n, after={"n": n})

        # Then one notification per transaction arrives, in commit order, each carrying the events as the
        # stream serves them from the table
        payloads = announced(listener)
    stored = [events.as_stream_event(e) for e in AuditEvent.objects.filter(kind="test.step").order_by("seq")]
    assert [events.from_notification(p) for p in payloads] == [stored[:2], stored[2:]]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_batch_too_large_to_carry_is_announced_by_its_range_and_a_rolled_back_one_not_at_all(inline):
    with listening() as listener:
        # When a transaction appends 25 events, and another appends one and rolls back
        with transaction.atomic(), chain.batch():
            for n in range(25):
                chain.record("test.step", subject_type="test", subject_id=n)
        with pytest.raises(RuntimeError), transaction.atomic():
            chain.record("test.step", subject_type="test", subject_id="gone")
            raise RuntimeError("rolled back")

        # Then a single notification names the committed batch's range, for servers to read it back
        payloads = announced(listener)
    seqs = list(AuditEvent.objects.filter(kind="test.step").order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == 25
    assert [json.loads(p) for p in payloads] == [{"from": seqs[0], "to": seqs[-1]}]
    assert events.from_notification(payloads[0]) is None
