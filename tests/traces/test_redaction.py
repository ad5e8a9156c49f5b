"""Redaction at ingest: what matches a pattern, built in or the organisation's own, is masked before it is stored;
a department that does not keep content has no messages or tool arguments stored at all. Read from the rows."""

import json
import random
import re

import pytest
from django.core.exceptions import ValidationError

from orchestration.keys import issue_key
from tests.support.otel import json_span, otlp_json, post
from traces import redaction
from traces.ingest import MAX_VALUE_CHARS, _mask_all, _masked
from traces.models import ContentSetting, RedactionPattern, Span
from traces.redaction import masker

SECRET_TEXT = (
    "Mail jane.doe@example.com or call +44 20 7946 0958 / (212) 555-0147; pay GB82 WEST 1234 5698 7654 32 "
    "with card 4111 1111 1111 1111, order 1234567812345678, claim CLM-88213."
)
MASKED_TEXT = (
    "Mail [email] or call [phone] / [phone]; pay [iban] with card [card], order 1234567812345678, claim [claim number]."
)


@pytest.fixture
def key(finance_agent) -> str:
    return issue_key(finance_agent)


def test_patterns_are_masked_in_every_stored_string(asgi_server, key):
    # Given the organisation masks its claim numbers too
    RedactionPattern.objects.create(name="claim number", pattern=r"CLM-\d+")
    messages = [{"role": "user", "parts": [{"type": "text", "content": SECRET_TEXT}]}]

    # When an agent exports a span carrying them in its messages, tool arguments, attributes and status
    span = json_span(
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": json.dumps(messages),
            "gen_ai.tool.call.arguments": json.dumps({"note": SECRET_TEXT}),
            "customer.note": SECRET_TEXT,
        }
    )
    span["status"] = {"code": 2, "message": "bounced: jane.doe@example.com"}
    assert post(asgi_server.url, otlp_json(span), key=key)[0] == 200

    # Then the stored row holds none of them, masked where they were, and the order number, no card, as it was
    stored = Span.objects.get()
    assert json.loads(stored.input_messages)[0]["parts"][0]["content"] == MASKED_TEXT
    assert json.loads(stored.tool_arguments) == {"note": MASKED_TEXT}
    assert stored.attributes["customer.note"] == MASKED_TEXT
    assert stored.status_message == "bounced: [email]"
    row = json.dumps([stored.input_messages, stored.tool_arguments, stored.attributes, stored.status_message])
    for secret in ("jane.doe", "7946", "555-0147", "WEST", "4111", "CLM-88213"):
        assert secret not in row


def test_a_department_that_keeps_no_content_has_no_messages_stored(asgi_server, key, finance, support_agent):
    # Given Finance does not keep message content, and Customer Support keeps it
    ContentSetting.objects.create(department=finance, keep_content=False)
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "salary of Ann"}]}]',
        "gen_ai.system_instructions": '[{"type": "text", "content": "You are the payroll agent"}]',
        "gen_ai.tool.call.arguments": '{"employee": "Ann"}',
        "gen_ai.tool.call.result": '{"salary": 91000}',
    }

    # When an agent of each exports the same span
    assert post(asgi_server.url, otlp_json(json_span(**attributes)), key=key)[0] == 200
    support_key = issue_key(support_agent)
    assert post(asgi_server.url, otlp_json(json_span(span_id="00000000000000aa", **attributes)), key=support_key)[0]

    # Then Finance's row has the model and no content at all; Support's keeps it
    kept_out = Span.objects.get(department=finance)
    assert (kept_out.request_model, kept_out.tool_arguments, kept_out.tool_result) == ("gpt-4o", "", "")
    assert (kept_out.system_instructions, kept_out.input_messages, kept_out.output_messages) == ("", "", "")
    assert "salary" not in json.dumps(kept_out.attributes) and "Ann" not in json.dumps(kept_out.attributes)
    kept = Span.objects.get(agent=support_agent)
    assert "salary of Ann" in kept.input_messages and "payroll agent" in kept.system_instructions
    assert kept.tool_result == '{"salary": 91000}'


def test_long_values_are_bounded():
    # Given a value far over the limits (no pattern can match "x")
    # When it is bounded for an attribute
    bounded = _masked("x" * 100_000, masker([]))

    # Then it is cut at the limit, marked as cut
    assert len(bounded) == MAX_VALUE_CHARS and bounded.endswith("…")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [("(unclosed", "Not a regular expression"), ("(?P<x>a)", "Named groups"), ("a*", "empty text")],
)
def test_an_unusable_pattern_is_refused_at_save(db, pattern, problem):
    with pytest.raises(ValidationError, match=problem):
        RedactionPattern(name="bad", pattern=pattern).full_clean()


def test_a_pattern_matching_across_two_values_masks_each_alone():
    # Given a pattern of the organisation's that runs on past the end of a value
    mask = masker([("note", r"secret[\s\S]*")])

    # When a span's values are masked together
    masked = _mask_all(["a secret plan", "b@example.com", "c"], mask)

    # Then each is masked as if alone: the next values are neither swallowed nor left unmasked
    assert masked == ["a [note]", "[email]", "c"]


def test_an_exports_strings_masked_together_are_masked_as_each_alone():
    # Given an export's strings in groups (a span's each), a pattern running past the end of a value in one group
    mask = masker([("note", r"secret[\s\S]*")])
    texts = ["call b@example.com", "+44 20 7946 0958", "a secret plan", "b@example.com", "c", "d@example.com"]

    # When they are masked together, group by group where a match crosses two of them
    masked = _mask_all(texts, mask, [2, 3, 1])

    # Then each is what masking it alone gives
    assert masked == [mask(text) for text in texts]
    assert masked == ["call [email]", "[phone]", "a [note]", "[email]", "c", "[email]"]


def test_scanning_near_digits_masks_what_scanning_everything_masks(monkeypatch):
    # Given texts made of what numbers are made of (digits, separators, capitals, "+", brackets, other scripts' digits)
    rng = random.Random(22)
    pieces = [
        "4111 1111 1111 1111",
        "4111",
        "1111",
        "GB82",
        "WEST",
        "+44",
        "20",
        "7946",
        "0958",
        "(212)",
        "555",
        "0147",
        "12",
        "3",
        "٣٤٥",
    ]
    pieces += [" ", "-", ".", "(", ")", "+", "x", "AB", "a word ", "é", "\n", "CLM-88213", "gpt-4o-2024-08-06", "@"]
    ascii_pieces = [piece for piece in pieces if piece.isascii()]
    texts = ["".join(rng.choice(ascii_pieces) for _ in range(rng.randint(1, 80))) for _ in range(3_000)]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 80))) for _ in range(1_000)]

    # When they are masked, scanning for numbers near digits only, and again scanning whole texts
    near = [masker([])(text) for text in texts]
    whole_text = lambda text: [(0, len(text))] if len(re.findall(r"\d", text)) >= redaction.MIN_DIGITS else []  # noqa: E731
    monkeypatch.setattr(redaction, "_number_windows", whole_text)
    whole = [masker([])(text) for text in texts]

    # Then both mask the same, and they mask numbers in many of them
    assert near == whole
    assert sum("[card]" in text for text in near) > 50
    assert sum("[phone]" in text for text in near) > 50
    assert sum("[iban]" in text for text in near) > 50


def test_no_address_is_left_where_a_scan_would_find_one():
    # Given texts made of the pieces of addresses and what surrounds them
    rng = random.Random(7)
    pieces = ["jane.doe", "@", "example.com", "ex-ample", ".", "+", "-", "_", " ", "x", "ü", "[", ")", "@@", "a" * 70]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(4_000)]

    # When they are masked
    masked = [masker([])(text) for text in texts]

    # Then an e-mail scan of what is stored finds nothing, and a scan of the texts found as many as were masked
    assert not [text for text in masked if redaction.EMAIL.search(text)]
    assert all(
        text.count("[email]") >= len(redaction.EMAIL.findall(original))
        for text, original in zip(masked, texts, strict=True)
    )
    assert sum("[email]" in text for text in masked) > 500
