"""A client that reconnects with `?last_event_id=N` gets exactly what it missed, then the live stream."""

import time

from dashboard.stream import consumers
from dashboard.stream import hub as hub_module
from tests.support.stream import Producer, committed_decision_events, decide, event_id_of, summary, unannounced


def test_a_reconnecting_client_gets_what_it_missed_then_live_events_without_gap_or_duplicate(
    watch, connect, alice, finance_agent, support_agent
):
    # Given alice has read some events and disconnected, and more happened while she was away
    first = watch(user=alice)
    for _ in range(3):
        decide(finance_agent)
    seen = [event["id"] for event in first.events(3)]
    first.close()
    for _ in range(2):
        decide(finance_agent)
        decide(support_agent)
    missed = committed_decision_events(after=seen[-1])

    # When she reconnects after the last event she saw, while agents keep acting
    second = connect(user=alice, last_event_id=seen[-1])
    second.hello()
    for _ in range(2):
        decide(support_agent)
    everything = committed_decision_events(after=first.starts_after)
    live = everything[len(seen) + len(missed) :]

    # Then she gets the missed events first, in order, then the live ones: each once, none left out
    resumed = [event["id"] for event in second.events(len(missed) + len(live))]
    assert (len(missed), len(live)) == (4, 2)
    assert resumed == missed + live
    assert seen + resumed == everything
    assert second.events_within() == []


def test_a_supervisor_resuming_gets_only_the_missed_events_in_their_scope(
    watch, connect, bob, finance_agent, support_agent, finance
):
    # Given bob, Supervisor of Finance, has seen a Finance event and disconnected; then both departments acted
    first = watch(user=bob)
    decide(finance_agent)
    [seen] = first.events(1)
    first.close()
    for _ in range(3):
        decide(support_agent)
        decide(finance_agent)

    # When he reconnects after the last event he saw
    second = connect(user=bob, last_event_id=seen["id"])
    second.hello()

    # Then he gets the Finance events he missed, and none of Support's
    missed = committed_decision_events(after=seen["id"], department_id=finance.pk)
    assert [event["id"] for event in second.events(3)] == missed
    assert second.events_within() == []


def test_a_client_too_far_behind_is_told_to_resync(watch, connect, alice, finance_agent, monkeypatch):
    # Given the server replays at most 2 events, and alice missed 5 (which the server has sent to others)
    monkeypatch.setattr(consumers, "RESUME_LIMIT", 2)
    first, witness = watch(user=alice), watch(user=alice)
    decide(finance_agent)
    [seen] = first.events(1)
    first.close()
    for _ in range(5):
        decide(finance_agent)
    newest = committed_decision_events(after=seen["id"])[-1]
    witness.events_through(newest)

    # When she reconnects after the last event she saw
    second = connect(user=alice, last_event_id=seen["id"])
    hello = second.hello()

    # Then, instead of a replay, she is told to reload her state as of the newest event
    frame = second.frame()
    assert (frame["type"], frame["last_event_id"]) == ("resync", hello)
    assert hello == newest


def test_a_client_resuming_after_events_this_server_has_not_sent_yet_gets_none_of_them_twice(
    watch, connect, alice, finance_agent, monkeypatch
):
    # Given two decisions whose messages have not reached this server process yet (it would read them back
    # later), which alice already saw on another server process
    monkeypatch.setattr(hub_module, "POLL_SECONDS", 3600)
    watch(user=alice)
    with unannounced(monkeypatch):
        seen_elsewhere = [event_id_of(decide(finance_agent)) for _ in range(2)]

    # When she reconnects to this server after the last of them, and another decision follows
    stream = connect(user=alice, last_event_id=seen_elsewhere[-1])
    stream.hello()
    newer = decide(finance_agent)

    # Then she receives the newer decision alone, not again the ones she saw
    received = stream.events_through(event_id_of(newer))
    assert summary(received) == [(event_id_of(newer), "decision.created")]


def test_a_client_resuming_while_agents_keep_acting_gets_every_event_once_and_in_order(
    watch, connect, alice, finance_agent, support_agent
):
    # Given agents acting from three threads, and alice reading the stream until she disconnects
    first = watch(user=alice)
    producers = [Producer([finance_agent, support_agent], count=60) for _ in range(3)]
    for producer in producers:
        producer.start()
    seen = [event["id"] for event in first.events(20)]
    first.close()
    time.sleep(0.2)

    # When she reconnects after the last event she saw, while they keep acting
    second = connect(user=alice, last_event_id=seen[-1])
    second.hello()
    for producer in producers:
        producer.finish()

    # Then, once everything committed is in the chain, she has received each event once, in id order
    everything = committed_decision_events(after=first.starts_after)
    resumed = [event["id"] for event in second.events_through(everything[-1], timeout=15)]
    assert len(everything) == 180
    assert seen + resumed == everything
    assert second.events_within() == []
