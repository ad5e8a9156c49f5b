import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.evidence import export_lines, public_key_b64


def _when(value: str) -> dt.datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"{value!r} is not a date (2026-11-01) or a date and time (2026-11-01T09:00Z).")
        moment = dt.datetime.combine(day, dt.time.min)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


class Command(BaseCommand):
    help = "Export a time range of the audit chain as a signed evidence pack (JSON Lines)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="since", required=False, help="Start (inclusive), e.g. 2026-11-01")
        parser.add_argument("--to", dest="until", required=False, help="End (exclusive); default now")
        parser.add_argument("-o", "--output", help="File to write; default standard output")
        parser.add_argument("--public-key", action="store_true", help="Print the signing public key and exit")

    def handle(self, *args, since, until, output, public_key, **options):
        if public_key:
            self.stdout.write(public_key_b64())
            return
        if not since:
            raise CommandError("Give --from (and optionally --to).")
        start, end = _when(since), _when(until) if until else timezone.now()
        if end <= start:
            raise CommandError("--to must come after --from.")
        target = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            for line in export_lines(start, end):
                target.write(line)
        finally:
            if output:
                target.close()
        if output:
            self.stderr.write(
                f"Wrote {output}. Verify with: python -m audit.evidence_check {output} --public-key {public_key_b64()}"
            )
