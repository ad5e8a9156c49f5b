"""Who may open /ws/decisions/: a person with a role, by session from Regent's own origin, or an agent by key.

Refusals are closes with a code a client can act on: 4401 (authenticate) and 4403 (not allowed).
"""

import pytest

from audit.chain import last_event_id
from tests.support.audit import wait_until_sequenced
from tests.support.stream import decide

UNKNOWN_KEY = "rgt_" + "x" * 43


def test_a_client_without_credentials_is_closed_with_4401(connect):
    # When a client connects with neither a session nor a key
    stream = connect()

    # Then it is told to authenticate
    assert stream.close_code() == 4401


def test_an_unknown_agent_key_is_closed_with_4401(connect):
    # When a client connects with a key no agent holds
    stream = connect(key=UNKNOWN_KEY)

    # Then it is told to authenticate
    assert stream.close_code() == 4401


def test_a_person_without_a_role_is_closed_with_4403(connect, erin):
    # When erin, signed in but holding no role, connects
    stream = connect(user=erin)

    # Then she is refused
    assert stream.close_code() == 4403


def test_a_session_used_from_a_foreign_origin_is_closed_with_4403(connect, alice):
    # When a page on another site opens the stream with alice's session cookie
    stream = connect(user=alice, origin="http://evil.example")

    # Then the stream refuses it, although the session is valid
    assert stream.close_code() == 4403


def test_a_session_used_from_regents_own_origin_is_accepted(connect, asgi_server, alice):
    # When Regent's own page opens the stream with alice's session cookie
    stream = connect(user=alice, origin=asgi_server.url)

    # Then she is greeted
    assert stream.frame()["type"] == "hello"


@pytest.mark.parametrize("key_in", ["query", "header"])
def test_an_accepted_agent_is_first_greeted_with_the_last_event_id(connect, finance_agent, agent_key, key_in):
    # Given an agent key, and events already recorded
    key = agent_key(finance_agent)
    current = last_event_id()

    # When the agent connects with it (as ?token= or as an Authorization: Bearer header)
    stream = connect(key=key, key_in=key_in)

    # Then the first frame is the greeting, saying where the stream starts
    assert stream.frame() == {"type": "hello", "last_event_id": current}


def test_an_accepted_person_is_first_greeted_with_the_last_event_id(connect, alice, finance_agent):
    # Given events already recorded (and chained)
    decide(finance_agent)
    wait_until_sequenced()
    current = last_event_id()

    # When alice connects
    stream = connect(user=alice)

    # Then the first frame is the greeting, saying where the stream starts
    assert stream.frame() == {"type": "hello", "last_event_id": current}
