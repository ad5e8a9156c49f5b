"""Under load, a client that drops and resumes ends with exactly the committed events of its scope."""

from tests.support.stream import Producer, committed_decision_events

DECISIONS = 300
READ_BEFORE_DROP = 20
LOAD_SECONDS = 60


def test_a_client_dropping_mid_stream_and_resuming_misses_nothing_and_repeats_nothing(
    watch, connect, bob, finance_agent, support_agent, finance
):
    # Given bob, Supervisor of Finance, watching while agents of two departments act as fast as they can
    first = watch(user=bob)
    producer = Producer([finance_agent, support_agent], DECISIONS)
    producer.start()

    # When his connection drops mid-stream and he resumes after the last event he saw
    received = first.events(READ_BEFORE_DROP, timeout=LOAD_SECONDS)
    first.close()
    dropped_while_producing = producer.is_alive()
    second = connect(user=bob, last_event_id=received[-1]["id"])
    second.hello()
    producer.finish()
    expected = committed_decision_events(after=first.starts_after, department_id=finance.pk)
    received += second.events_through(expected[-1], timeout=LOAD_SECONDS)
    received += second.events_within()

    # Then he has every committed Finance decision exactly once, in order, and nothing else
    assert dropped_while_producing
    assert len(expected) == DECISIONS // 2
    assert {event["type"] for event in received} == {"decision.created"}
    assert [event["id"] for event in received] == expected
