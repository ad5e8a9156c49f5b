"""What an auditor takes away: a framework's controls with their evidence as CSV and JSON, and for those who may
export evidence (Auditors) a ZIP that adds the period's signed evidence pack and a signed manifest.

The ZIP holds `controls.csv`, `controls.json`, `evidence-pack.jsonl` (audit.evidence, the whole chain's events
of the period: a pack must be one unbroken piece of the chain to verify) and `manifest.json`, which lists each
file's SHA-256 and is signed with the organisation's Ed25519 key. `python -m dashboard.compliance.bundle_check`
checks a bundle offline.
"""

import base64
import csv
import datetime as dt
import hashlib
import io
import tempfile
import zipfile

from django.utils import timezone

from audit.evidence import export_lines, public_key_b64, signing_key
from audit.hashing import canonical
from dashboard.compliance.bundle_check import MANIFEST, MANIFEST_FORMAT, PACK, signed_manifest_body
from dashboard.compliance.report import FrameworkReport

BOM = "\ufeff"
FORMAT = "regent.controls/1"
SPOOL_BYTES = 16 * 1024 * 1024  # a bundle larger than this is built on disk, not in memory


def bundle_refusal(user) -> str:
    """Why `user` may not take the ZIP (it holds the whole audit log of the period), or "" when they may: the page
    and the command ask here."""
    if not user.has_perm("dashboard.view_controls"):
        return "Controls and evidence are for Auditors, Executives and Supervisors."
    if not user.has_perm("audit.export_evidence"):
        return "The ZIP holds the whole audit log of the period: Auditors export it."
    return ""


def file_stem(report: FrameworkReport) -> str:
    """`regent-controls-eu-ai-act-20261127-20261203`: the framework and the period's first and last UTC day."""
    period = report.period
    return f"regent-controls-{report.framework.slug}-{period.start:%Y%m%d}-{period.last_day:%Y%m%d}"


def pack_range(report: FrameworkReport) -> tuple[dt.datetime, dt.datetime]:
    """The evidence pack covers the period up to now (a period ending tomorrow has no events after now)."""
    return report.period.start, min(report.period.end, timezone.now())


def pack_command(report: FrameworkReport) -> str:
    since, until = pack_range(report)
    return f"python manage.py export_evidence --from {since:%Y-%m-%dT%H:%MZ} --to {until:%Y-%m-%dT%H:%MZ}"


def _when(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def as_document(report: FrameworkReport, base_url: str = "") -> dict:
    """The report as JSON: what controls.json holds and the API answers."""
    framework, period = report.framework, report.period
    return {
        "format": FORMAT,
        "library_version": report.library_version,
        "framework": {"slug": framework.slug, "name": framework.name, "edition": framework.edition},
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "label": period.label},
        "scope": report.scope_label,
        "generated_at": timezone.now().astimezone(dt.UTC).isoformat(),
        "evidence_pack": {"command": pack_command(report)},
        "controls": [
            {
                "id": row.control.id,
                "title": row.control.title,
                "feature": row.control.feature,
                "records": row.control.records,
                "query": row.control.query,
                "coverage": row.control.coverage,
                "deployer_adds": row.control.deployer_adds,
                "status": row.status,
                "status_label": row.status_label,
                "count": row.evidence.count,
                "withheld": row.evidence.withheld,
                "newest": None
                if row.evidence.newest is None
                else {
                    "label": row.evidence.newest.label,
                    "at": row.evidence.newest.at.astimezone(dt.UTC).isoformat() if row.evidence.newest.at else None,
                    "url": base_url + row.evidence.newest.url if row.evidence.newest.url else "",
                },
            }
            for row in report.controls
        ],
    }


def csv_text(report: FrameworkReport, base_url: str = "") -> str:
    """UTF-8 with a byte-order mark (Excel reads it as UTF-8 only then): a heading block, then one row a control."""
    framework = report.framework
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(["Regent controls and evidence", f"{framework.name} ({framework.edition})"])
    writer.writerow(["Period", report.period.label])
    writer.writerow(["Scope", report.scope_label])
    writer.writerow(["Control library version", report.library_version])
    writer.writerow(["Generated (UTC)", _when(timezone.now())])
    pack = f"evidence-pack.jsonl in the ZIP export, or: {pack_command(report)}"
    writer.writerow(["Evidence pack of the period", pack])
    writer.writerow([])
    writer.writerow(
        [
            "Control",
            "Title (paraphrased)",
            "Regent feature",
            "Records that prove it",
            "Coverage",
            "What the deployer adds",
            "Status",
            "Records in the period (count)",
            "Newest record",
            "Newest record at (UTC)",
            "Newest record link",
        ]
    )
    for row in report.controls:
        newest = row.evidence.newest
        writer.writerow(
            [
                row.control.id,
                row.control.title,
                row.control.feature,
                row.control.records,
                "partial" if row.control.partial else "full",
                row.control.deployer_adds,
                row.status_label if row.status != "withheld" else f"{row.status_label}. {row.evidence.withheld}",
                "" if row.evidence.count is None else row.evidence.count,
                newest.label if newest else "",
                _when(newest.at) if newest else "",
                base_url + newest.url if newest and newest.url else "",
            ]
        )
    return out.getvalue()


def write_bundle(report: FrameworkReport, target, base_url: str = "") -> None:
    """Write the ZIP to a binary file object: the two renderings, the evidence pack, then the signed manifest."""
    digests: dict[str, str] = {}
    written = timezone.now().astimezone(dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:

        def add(name: str, chunks) -> None:
            digest = hashlib.sha256()
            entry = zipfile.ZipInfo(name, date_time=written)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with bundle.open(entry, "w") as member:
                for chunk in chunks:
                    data = chunk.encode()
                    digest.update(data)
                    member.write(data)
            digests[name] = digest.hexdigest()

        add("controls.csv", [csv_text(report, base_url)])
        add("controls.json", [canonical(as_document(report, base_url)) + "\n"])
        add(PACK, export_lines(*pack_range(report)))
        manifest = {
            "format": MANIFEST_FORMAT,
            "framework": report.framework.slug,
            "period": {"start": report.period.start.isoformat(), "end": report.period.end.isoformat()},
            "files": digests,
            "public_key": public_key_b64(),
        }
        signature = signing_key().sign(signed_manifest_body(manifest))
        manifest["signature"] = base64.b64encode(signature).decode()
        entry = zipfile.ZipInfo(MANIFEST, date_time=written)
        bundle.writestr(entry, canonical(manifest) + "\n", compress_type=zipfile.ZIP_DEFLATED)


def bundle_file(report: FrameworkReport, base_url: str = ""):
    """The ZIP in a temporary file (in memory up to SPOOL_BYTES), rewound, for a FileResponse to stream."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the response closes it
    write_bundle(report, spool, base_url)
    spool.seek(0)
    return spool
