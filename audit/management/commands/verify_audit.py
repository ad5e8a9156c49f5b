from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_chain
from audit.models import PendingEvent


class Command(BaseCommand):
    help = "Walk the audit chain and name the first event whose link or content does not hold."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event #{report.broken_seq}: {report.reason} "
                f"({report.checked} events before it verified)."
            )
        queued = PendingEvent.objects.count()
        waiting = f"; {queued} more queued for the sequencer" if queued else ""
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified{waiting}."))
