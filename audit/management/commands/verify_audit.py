from django.core.management.base import BaseCommand, CommandError

from audit import verification
from audit.models import VerificationRun


class Command(BaseCommand):
    help = (
        "Verify the audit chain in one snapshot, all of it (from the retention cut, once retention has deleted the "
        "oldest events) or (--incremental) from the last verified checkpoint, "
        "and against the newest checkpoint each witness holds; name the first event that does not hold, or the "
        "rewind or truncation a witness's checkpoint shows."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="Walk only the events after the last checkpoint a verification found intact",
        )

    def handle(self, *args, incremental: bool, **options):
        mode = VerificationRun.Mode.INCREMENTAL if incremental else VerificationRun.Mode.FULL
        run = verification.verify_now(mode)
        if run.status != VerificationRun.Status.INTACT:
            raise CommandError(describe_failure(run))
        since = f" after the verified checkpoint of {run.from_seq}" if run.from_seq else ""
        waiting = f"; {run.queued_events} more queued for the sequencer" if run.queued_events else ""
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {run.checked} events verified{since}{waiting}."))


def describe_failure(run: VerificationRun) -> str:
    findings = list(run.findings)
    if run.broken_seq is not None:
        first = f"Audit chain broken at {findings.pop(0)} ({run.checked} events before it verified)."
    else:
        first = f"Audit chain broken: {findings.pop(0)}." if findings else "Audit chain not verified."
    return " ".join([first, *(f"Also: {finding}." for finding in findings)])
