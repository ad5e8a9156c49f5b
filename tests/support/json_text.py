"""Hypothesis strategies for JSON request bodies as a careless or hostile client writes them: mostly what an
endpoint takes, with bad values where good ones belong (NaN, Infinity, 1e309, nesting thousands deep, huge
or unpaired-surrogate strings, huge numbers, any other shape). Bodies are built as text: Python's json could
neither write those numbers nor nest that deep.
"""

import copy
import json
from dataclasses import dataclass

from hypothesis import strategies as st


@dataclass(frozen=True)
class Raw:
    """JSON text written as is."""

    text: str


def encode(value) -> str:
    """JSON text of a value that may hold Raw parts (the nesting is a test's few levels; Raw holds the rest)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(name)}: {encode(item)}" for name, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(encode, value)) + "]"
    return json.dumps(value)


def nested(depth: int, kind: str) -> Raw:
    if kind == "lists":
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a": ' * depth + "1" + "}" * depth)


def weighted(*strategies: st.SearchStrategy) -> st.SearchStrategy:
    """One of the strategies, each as likely as the next: name one twice to make it twice as likely (st.one_of
    keeps only one of each)."""
    return st.integers(0, len(strategies) - 1).flatmap(lambda n: strategies[n])


any_character = st.characters(exclude_categories=())  # unpaired surrogates too
names = st.text(max_size=40)
plain = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6) | names

unstorable_numbers = st.sampled_from(["1e309", "-1e309", "NaN", "Infinity", "-Infinity", "0.1e99999"]).map(Raw)
odd_numbers = st.integers(-(2**70), 2**70) | st.sampled_from(["1e-400", "9" * 400, "-0.0", "1E+2", "1e308"]).map(Raw)
odd_texts = st.text(any_character, max_size=30) | st.builds(
    lambda character, times: character * times, any_character, st.integers(0, 200_000)
)
deep = st.builds(nested, st.sampled_from([31, 33, 5_000, 100_000]), st.sampled_from(["lists", "objects"]))
values = st.recursive(
    plain | odd_numbers | odd_texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(odd_texts, children, max_size=4),
    max_leaves=8,
)
bad = weighted(unstorable_numbers, unstorable_numbers, deep, odd_numbers, odd_texts, values)


def mostly(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """The strategy's values three times in four, a bad one the fourth."""
    return weighted(strategy, strategy, strategy, bad)


json_objects = st.dictionaries(names, plain, max_size=4)


def objects(members: dict[str, st.SearchStrategy], *, required: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    """Objects with these members, the others each left out half the time."""
    return st.fixed_dictionaries(
        {name: members[name] for name in required},
        optional={name: strategy for name, strategy in members.items() if name not in required},
    )


def put(body: dict, path: tuple[str | int, ...], value) -> dict:
    """A copy of the body with the value at the path: member names, and list indexes that exist."""
    body = copy.deepcopy(body)
    here = body
    for step in path[:-1]:
        child = here[step] if isinstance(here, list) else here.get(step)
        if not isinstance(child, dict | list):
            child = here[step] = {}
        here = child
    here[path[-1]] = value
    return body


def bodies(
    members: dict[str, st.SearchStrategy], *, places: list[tuple[str | int, ...]], required: tuple[str, ...] = ()
) -> st.SearchStrategy[str]:
    """Half the time a good body (the members an endpoint reads, each a value it takes) with one bad value put
    at one of the places; else a good body, one whose members are each bad one time in four, a body of
    any other shape, or text that is not JSON at all."""
    good = objects(members, required=required)
    mixed = objects({name: mostly(strategy) for name, strategy in members.items()}, required=required)
    one_bad = st.builds(put, good, st.sampled_from(places), bad)
    junk = st.sampled_from(["", "{", "nul", '{"a": 1} x', '{"a": "\\x"}', "\ufeff{}", '"\udcff"']).map(Raw)
    return weighted(junk, bad, good, mixed, mixed, one_bad, one_bad, one_bad, one_bad, one_bad).map(encode)
