import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.models import Policy
from governance.policies import as_enforced, snapshot_of
from governance.replay import replay


class Command(BaseCommand):
    help = "Re-decide the last N days of decisions as if the given policies were enforced, and report the change."

    def add_arguments(self, parser):
        parser.add_argument("policies", nargs="+", type=int, help="Ids of the policies to enforce in the replay.")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, policies: list[int], days: int, batch_size: int, **options):
        if days <= 0 or batch_size <= 0:
            raise CommandError("--days and --batch-size must be positive.")
        found = {p.pk: p for p in Policy.objects.filter(pk__in=policies)}
        missing = sorted(set(policies) - set(found))
        if missing:
            raise CommandError(f"No policy with id {', '.join(map(str, missing))}.")
        until = timezone.now()

        def progress(processed: int, total: int) -> None:
            self.stderr.write(f"\r  {processed:,}/{total:,} decisions replayed", ending="")

        report = replay(
            {pk: as_enforced(snapshot_of(p)) for pk, p in found.items()},
            since=until - dt.timedelta(days=days),
            until=until,
            batch_size=batch_size,
            on_progress=progress,
        )
        self.stderr.write("")
        self.stdout.write(f"Replayed {report.decisions:,} decisions; {report.changed:,} would change.")
        for (before, after), count in report.transitions.most_common():
            self.stdout.write(f"  {before:>16} → {after:<16} {count:>8,}   e.g. {report.samples[f'{before}→{after}']}")
        self.stdout.write(f"Money that would have been blocked: {report.money_blocked}")
        self.stdout.write(f"Money that would have been released: {report.money_released}")
        for name, count in report.by_department.most_common():
            self.stdout.write(f"  {name:<30} {count:>8,}")
