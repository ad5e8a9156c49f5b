"""A client that does not keep up only grows its own queue; past the bound it is told to resync and closed.

The hub is tested on its own (no server) for the bound, for ordering and for reading back; the server then
shows the same with real sockets.
"""

import asyncio
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from websockets.exceptions import ConnectionClosed

from dashboard.stream import hub as hub_module
from dashboard.stream.hub import Hub, Subscriber
from dashboard.stream.scope import StreamScope
from tests.support.stream import Producer, committed_decision_events, decide

T = TypeVar("T")
EVERYTHING = StreamScope(all_departments=True)
DECISIONS = 300
LOAD_SECONDS = 60


def event(event_id: int) -> dict:
    return {
        "id": event_id,
        "type": "decision.created",
        "at": "2026-03-10T14:30:00+00:00",
        "department_id": 1,
        "agent_id": 1,
        "subject": {"type": "decision", "id": str(event_id)},
        "data": {"verdict": "allow", "risk_score": 15},
    }


def run_in_own_loop(scenario: Coroutine[Any, Any, T]) -> T:
    """Run a scenario on a fresh event loop in a thread of its own: this thread may already run a loop
    (the browser tests' Playwright keeps one open for the whole session)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, scenario).result(timeout=10)


def ids_of(frame: list[str]) -> list[int]:
    return [json.loads(text)["id"] for text in frame]


@pytest.fixture
def no_gap_reads(monkeypatch):
    """Events fed by hand: the hub must not go to the database for ones it is still waiting for."""
    monkeypatch.setattr(hub_module, "GAP_WAIT_SECONDS", 3600)


def test_a_subscriber_that_never_drains_is_dropped_past_its_bound_while_another_gets_every_event(
    monkeypatch, no_gap_reads
):
    # Given a queue bound of 3 events, and two subscribers: one never drains, the other drains after each event
    monkeypatch.setattr(hub_module, "MAX_PENDING", 3)

    async def scenario() -> tuple[list[str] | None, list[int]]:
        hub, stalled, reader = Hub(), Subscriber(EVERYTHING), Subscriber(EVERYTHING)
        hub.register(stalled)
        hub.register(reader)
        delivered = []
        # When ten events arrive
        for event_id in range(1, 11):
            hub.accept([event(event_id)])
            delivered += ids_of(await asyncio.wait_for(reader.next_frame(), 1))
        return await asyncio.wait_for(stalled.next_frame(), 1), delivered

    stalled_frame, delivered = run_in_own_loop(scenario())

    # Then the stalled one is told it fell behind (the consumer then sends resync and closes with 4008)
    assert stalled_frame is None
    # And the other received every event, in order
    assert delivered == list(range(1, 11))


def test_a_subscriber_gets_everything_pending_in_one_batch_within_its_bound(monkeypatch, no_gap_reads):
    # Given a queue bound of 3 events and a subscriber that has not drained yet
    monkeypatch.setattr(hub_module, "MAX_PENDING", 3)

    async def scenario() -> list[str] | None:
        hub, subscriber = Hub(), Subscriber(EVERYTHING)
        hub.register(subscriber)
        # When exactly three events arrive before it drains
        hub.accept([event(1), event(2), event(3)])
        return await asyncio.wait_for(subscriber.next_frame(), 1)

    # Then it gets all three in one frame
    assert ids_of(run_in_own_loop(scenario())) == [1, 2, 3]


def test_the_hub_delivers_events_once_each_in_id_order_whatever_order_they_arrive_in(no_gap_reads):
    # Given a subscriber on a hub
    async def scenario() -> list[int]:
        hub, subscriber = Hub(), Subscriber(EVERYTHING)
        hub.register(subscriber)
        # When events 3, 1, 2 and 2 again arrive, in separate messages
        for batch in ([event(3)], [event(1)], [event(2), event(2)]):
            hub.accept(batch)
        frame = await asyncio.wait_for(subscriber.next_frame(), 1)
        hub.accept([event(1), event(3)])
        return ids_of(frame) + ids_of(subscriber.pending)

    # Then it delivers 1, 2, 3, each once; repeats of delivered events are ignored
    assert run_in_own_loop(scenario()) == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_notification_naming_only_a_range_makes_the_hub_read_those_events_back(finance_agent, no_gap_reads):
    # Given a subscriber on a hub that has delivered everything so far, and three committed decisions
    start = committed_decision_events(after=0)
    for _ in range(3):
        decide(finance_agent)
    made = committed_decision_events(after=start[-1] if start else 0)

    async def scenario() -> list[int]:
        hub, subscriber = Hub(), Subscriber(EVERYTHING)
        hub.last_seq = made[0] - 1
        hub.register(subscriber)
        # When a notification names their range instead of carrying them
        hub._notified(json.dumps({"from": made[0], "to": made[-1]}))
        return ids_of(await asyncio.wait_for(subscriber.next_frame(), 5))

    # Then the hub reads them from the table and delivers them in order
    assert run_in_own_loop(scenario()) == made


def test_a_client_past_its_queue_bound_is_told_to_resync_and_closed_with_4008(watch, alice, finance_agent, monkeypatch):
    # Given a bound that any pending event exceeds, and alice watching
    monkeypatch.setattr(hub_module, "MAX_PENDING", 0)
    stream = watch(user=alice)

    # When an event arrives for her
    decide(finance_agent)

    # Then she is told to reload her state, and the server closes the connection as too slow
    frame = stream.frame()
    assert (frame["type"], frame["reason"]) == ("resync", "client too slow")
    assert stream.close_code() == 4008


def test_a_client_that_stops_reading_does_not_hold_back_one_that_reads(
    watch, alice, finance_agent, support_agent, monkeypatch
):
    # Given a small queue bound, one client that stops reading, and one that reads
    monkeypatch.setattr(hub_module, "MAX_PENDING", 50)
    idle = watch(user=alice, max_queue=1)
    reader = watch(user=alice)

    # When agents make many decisions as fast as they can
    producer = Producer([finance_agent, support_agent], DECISIONS)
    producer.start()
    received = reader.events(DECISIONS, timeout=LOAD_SECONDS)
    producer.finish()

    # Then the reading client received every decision, in order, once
    expected = committed_decision_events(after=reader.starts_after)
    assert [event["id"] for event in received] == expected
    # And the idle one, once it reads, either has them all too, or was told to resync and closed with 4008
    frames, close_code = read_all(idle)
    if any(frame["type"] == "resync" for frame in frames):
        assert frames[-1]["type"] == "resync"
        assert close_code == 4008
    else:
        assert [event["id"] for frame in frames for event in frame["events"]] == expected


def read_all(stream, quiet_seconds: float = 2) -> tuple[list[dict], int | None]:
    """Every frame until the stream goes quiet or closes; and the close code, if it closed."""
    frames = []
    while True:
        try:
            frames.append(json.loads(stream.socket.recv(timeout=quiet_seconds)))
        except TimeoutError:
            return frames, None
        except ConnectionClosed as closed:
            return frames, closed.rcvd.code if closed.rcvd else None
