from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit import retention


class Command(BaseCommand):
    help = (
        "Archive what has outlived its retention period (RETENTION_*_DAYS) to RETENTION_ARCHIVE as signed, "
        "compressed evidence packs, verify each as written, sign a checkpoint at the cut, then delete it: the one "
        "path by which records leave the database. Beat runs the same every RETENTION_SECONDS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Say what has expired; archive and delete nothing")

    def handle(self, *args, dry_run: bool, **options):
        if dry_run:
            counts = retention.expired()
            listed = ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in counts.items())
            self.stdout.write(f"Expired: {listed}. Nothing archived or deleted (dry run).")
            return
        if not settings.RETENTION_ARCHIVE:
            raise CommandError("RETENTION_ARCHIVE is not set (file:///absolute/dir): nothing is deleted unarchived.")
        try:
            applied = retention.apply()
        except retention.RetentionError as error:
            raise CommandError(str(error)) from error
        for batch in applied:
            self.stdout.write(f"Retention {batch}.")
        if not applied:
            self.stdout.write("Nothing has expired.")
