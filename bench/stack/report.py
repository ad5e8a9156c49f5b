"""Tables for the load and fault scripts: answers per endpoint, faults and their recovery, sockets, invariants."""

from collections import Counter

from bench.stack.traffic import ENDPOINTS, NO_ANSWER, Answer, Watcher


def percentile_ms(values: list[float], share: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000:.0f}"


def statuses(answers: list[Answer]) -> str:
    """Answers other than 2xx, by status, most frequent first ("none" is no answer at all)."""
    counts = Counter("none" if a.status == NO_ANSWER else str(a.status) for a in answers if not 200 <= a.status < 300)
    return " ".join(f"{status}×{n}" for status, n in counts.most_common()) or "-"


def endpoints_table(answers: list[Answer], seconds: float) -> str:
    lines = [f"{'endpoint':<16}{'answers':>9}{'2xx/s':>8}{'p50 ms':>8}{'p99 ms':>8}  other answers by status"]
    for endpoint in ENDPOINTS:
        mine = [a for a in answers if a.endpoint == endpoint]
        ok = [a.ended - a.started for a in mine if 200 <= a.status < 300]
        lines.append(
            f"{endpoint:<16}{len(mine):>9}{len(ok) / seconds:>8.1f}{percentile_ms(ok, 0.5):>8}"
            f"{percentile_ms(ok, 0.99):>8}  {statuses(mine)}"
        )
    return "\n".join(lines)


def in_window(window: dict, answers: list[Answer]) -> list[Answer]:
    return [a for a in answers if window["start"] <= a.ended < window["end"]]


def recovery_seconds(window: dict, answers: list[Answer]) -> float | None:
    """From the fault to the first 2xx for a request sent once the store or process was back (None: none)."""
    first = min(
        (a.ended for a in in_window(window, answers) if 200 <= a.status < 300 and a.started >= window["back"]),
        default=None,
    )
    return None if first is None else first - window["start"]


def faults_table(windows: list[dict], answers: list[Answer]) -> str:
    lines = [f"{'fault':<26}{'back s':>7}{'recover s':>10}{'2xx':>7}  other answers by status in its window"]
    for w in windows:
        during = in_window(w, answers)
        seconds = recovery_seconds(w, answers)
        recover = "never" if seconds is None else f"{seconds:.2f}"
        ok = sum(1 for a in during if 200 <= a.status < 300)
        lines.append(f"{w['name']:<26}{w['back'] - w['start']:>7.2f}{recover:>10}{ok:>7}  {statuses(during)}")
    return "\n".join(lines)


def sockets_table(watchers: list[Watcher], checked: dict) -> str:
    received = [len(w.received) for w in watchers]
    if not watchers:
        return "no sockets"
    refusal = next((w.last_refusal for w in watchers if w.last_refusal), "")
    return (
        f"{'sockets':>8}{'events':>10}{'min':>8}{'max':>8}{'connects':>10}{'refused':>9}{'resyncs':>9}"
        f"{'lost':>6}{'dup':>5}{'extra':>7}\n"
        f"{len(watchers):>8}{sum(received):>10}{min(received):>8}{max(received):>8}"
        f"{sum(w.connects for w in watchers):>10}{sum(w.refusals for w in watchers):>9}"
        f"{sum(w.resyncs for w in watchers):>9}{checked['lost']:>6}{checked['duplicated']:>5}{checked['unexpected']:>7}"
        + (f"\na refusal: {refusal}" if refusal else "")
    )


def invariants(checked: dict, watchers: list[Watcher], exited: list[str]) -> list[tuple[str, bool, str]]:
    """(what must hold, holds, detail) for each invariant the fault script checks."""
    d, c, s = checked["decisions"], checked["chain"], checked["sockets"]
    return [
        ("every Procfile process still runs", not exited, f"exited: {', '.join(exited) or 'none'}"),
        ("the audit queue drained", checked["queued_left"] == 0, f"{checked['queued_left']} left"),
        (
            "every acknowledged decision is stored",
            d["missing_count"] == 0,
            f"{d['acknowledged']} acknowledged, {d['missing_count']} missing {d['missing']}",
        ),
        (
            "each has exactly one audit event",
            d["without_audit_count"] == 0 and not d["audit_more_than_once"],
            f"{d['without_audit_count']} without {d['without_audit']}, more than one: {d['audit_more_than_once']}",
        ),
        (
            "the chain verifies",
            c["ok"],
            f"{c['checked']} events" + (f"; broken at #{c['broken_seq']}: {c['reason']}" if not c["ok"] else ""),
        ),
        (
            "each socket got its events exactly once",
            s["lost"] == 0 and s["duplicated"] == 0 and s["unexpected"] == 0 and not any(w.resyncs for w in watchers),
            f"{s.get('entitled_events', 0)} entitled over {s['clients']} viewers' scopes; lost {s['lost']}, "
            f"duplicated {s['duplicated']}, not entitled {s['unexpected']}, resyncs {sum(w.resyncs for w in watchers)}"
            + (f"; short: {s['clients_short']}" if s["clients_short"] else ""),
        ),
    ]


def invariants_table(rows: list[tuple[str, bool, str]]) -> str:
    return "\n".join(f"{'ok  ' if holds else 'FAIL'}  {what}: {detail}" for what, holds, detail in rows)


def samples_table(samples: dict[str, str]) -> str:
    """What the first answer of each endpoint and status other than 2xx said."""
    return "\n".join(f"first {what}: {body[:160]}" for what, body in sorted(samples.items()))
