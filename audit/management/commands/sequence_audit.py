import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from audit import sequencer


class Command(BaseCommand):
    help = (
        "Link queued audit events into the chain, in batches, in order (AUDIT_SEQUENCING=queued). Run one or "
        "more: one is elected, the others stand by. Stops on SIGTERM or SIGINT after its current batch."
    )

    def handle(self, *args, **options):
        if settings.AUDIT_SEQUENCING != "queued":
            self.stderr.write("AUDIT_SEQUENCING is not queued: writers link their own events; nothing to sequence.")
        stop = threading.Event()
        for stopping in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stopping, lambda *_: stop.set())
        sequencer.run(stop)
