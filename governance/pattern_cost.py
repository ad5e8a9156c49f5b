"""What compiling a matches() pattern costs, in condition steps (governance.condition_cost).

The runtime compiles a condition's pattern on every evaluation, and the Rust `regex` crate compiles
Unicode classes into large automata: `\\w` alone takes about 250 µs, `\\d{1000}` about 38 ms, and a pattern
past the crate's size limit about 100 ms before it fails. The weights below are from
bench/condition_cost.py (a step is about 0.05 µs); they err high. Reading the pattern is linear in its length.
"""

import math
import re

CALL = 40
UNICODE = 500  # paid once by a pattern that uses any Unicode-aware class, . or case folding
WEIGHTS = {
    "literal": 6,
    "wide literal": 12,
    "folded letter": 320,
    "alternative": 20,
    "any": 120,
    "class": 12,
    "wide class": 120,
    "negated class": 120,
    "boundary": 200,
    "s": 120,
    "S": 200,
    "d": 500,
    "D": 1_000,
    "w": 5_000,
    "W": 5_000,
    "p": 5_000,
    "P": 5_000,
}
# Atoms that need no Unicode tables: literals, ASCII classes, anchors.
CHEAP = {WEIGHTS["literal"], WEIGHTS["wide literal"], WEIGHTS["class"], 1}
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_GROUP = re.compile(r"\(\?([a-zA-Z-]*)([):])?")


def pattern_steps(pattern: str) -> int:
    """An upper estimate of compiling `pattern` once, in steps."""
    groups = [[0, 0]]  # per open group: its steps so far, and the steps of its last atom (what a repeat repeats)
    folded = [False]  # per open group: whether (?i) is on
    unicode = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "(":
            flags = _GROUP.match(pattern, index)
            if flags and flags.group(2) == ")":  # (?i) alone: for the rest of the enclosing group
                folded[-1] = _folds(flags.group(1), folded[-1])
                index = flags.end()
                continue
            folded.append(_folds(flags.group(1), folded[-1]) if flags and flags.group(2) else folded[-1])
            index = flags.end() if flags and flags.group(2) else index + 1
            if pattern.startswith(("?P<", "?<"), index):
                index = pattern.find(">", index) + 1 or len(pattern)
            groups.append([0, 0])
            continue
        if char == "|":
            groups[-1][0] += WEIGHTS["alternative"]
            groups[-1][1] = 0
            index += 1
            continue
        if char in "*+?":  # a loop around one copy of the atom: nothing more to compile
            index += 1
            continue
        if char == "{" and (repeat := _REPEAT.match(pattern, index)):
            least, comma, most = int(repeat.group(1)), repeat.group(2), repeat.group(3)
            times = max(least, int(most)) if most else least + 1 if comma else least
            groups[-1][0] += groups[-1][1] * (times - 1)
            groups[-1][1] *= times
            index = repeat.end()
            continue
        if char == ")" and len(groups) > 1:
            atom = groups.pop()[0]
            folded.pop()
            index += 1
        else:
            index, atom = _atom(pattern, index, folded[-1])
            unicode = unicode or atom not in CHEAP
        groups[-1][0] += atom
        groups[-1][1] = atom
    steps = sum(group[0] for group in groups)
    return math.ceil(CALL + steps + (UNICODE if unicode else 0))


def _atom(pattern: str, index: int, folded: bool) -> tuple[int, int]:
    """Read one atom at `index`: where the next thing starts, and the atom's steps."""
    char = pattern[index]
    if char == "[":
        return _class(pattern, index, folded)
    if char == ".":
        return index + 1, WEIGHTS["any"]
    if char in "^$":
        return index + 1, 1
    if char != "\\" or index + 1 == len(pattern):
        return index + 1, _literal(char, folded)
    end, weight = _escape(pattern, index)
    if weight is None:
        return end, _literal(pattern[index + 1], folded)
    return end, weight * 2 if folded else weight  # case folding widens a Unicode class further


def _escape(pattern: str, index: int) -> tuple[int, int | None]:
    """The escape at `index`: where it ends, and its weight when it is a class (None for a literal)."""
    escaped = pattern[index + 1]
    if escaped in "pP":
        end = pattern.find("}", index) + 1 if pattern.startswith("{", index + 2) else index + 3
        return end or len(pattern), WEIGHTS[escaped]
    if escaped in "sSdDwW":
        return index + 2, WEIGHTS[escaped]
    if escaped in "bB":
        return index + 2, WEIGHTS["boundary"]
    if escaped in "xuU":  # a code point, perhaps outside ASCII
        end = pattern.find("}", index) + 1 if pattern.startswith("{", index + 2) else index + 2
        return end or len(pattern), None
    return index + 2, None


def _literal(char: str, folded: bool) -> int:
    if folded and char.isalpha():
        return WEIGHTS["folded letter"]
    return WEIGHTS["literal"] if char.isascii() else WEIGHTS["wide literal"]


def _folds(flags: str, current: bool) -> bool:
    on, _, off = flags.partition("-")
    return ("i" in on or current) and "i" not in off


def _class(pattern: str, index: int, folded: bool) -> tuple[int, int]:
    """Skip a bracketed class (nested ones included) and weigh it: the Unicode classes inside add up."""
    start, depth, weight, wide = index, 0, WEIGHTS["class"], False
    negated = pattern.startswith("[^", index)
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            end, escaped = _escape(pattern, index)
            weight += escaped or 0
            wide = wide or pattern[index + 1] in "xuU"
            index = end
            continue
        if depth and pattern.startswith("[:", index):  # [:alpha:] is ASCII, [:^alpha:] all the rest
            negated = negated or pattern.startswith("[:^", index)
            index = pattern.find(":]", index + 2) + 2 or len(pattern)
            continue
        if char == "[":
            depth += 1
        elif char == "]" and index > start + 1 + pattern.startswith("[^", start):
            depth -= 1
            if depth == 0:
                index += 1
                break
        elif not char.isascii():
            wide = True
        index += 1
    if wide:
        weight = max(weight, WEIGHTS["wide class"])
    if negated:
        weight = max(weight, WEIGHTS["negated class"])
    if folded:
        weight = max(weight * 2, WEIGHTS["folded letter"])
    return index, weight
