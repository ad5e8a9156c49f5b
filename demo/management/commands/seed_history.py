"""`manage.py seed_history --decisions N`: synthetic history at COPY speed, rollups included."""

from django.core.management.base import BaseCommand, CommandError

from demo.history import HistoryError, load_history


class Command(BaseCommand):
    help = "Load N synthetic decisions (with outcomes, approvals and rollups) over the last days, for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--decisions", type=int, required=True, help="How many decisions to add.")
        parser.add_argument("--days", type=int, default=90, help="Spread them over this many days back from now.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed, for a repeatable load.")

    def handle(self, *args, decisions: int, days: int, seed: int, **options):
        try:
            report = load_history(decisions, days=days, seed=seed)
        except HistoryError as exc:
            raise CommandError(str(exc)) from exc
        rate = report.decisions / report.seconds if report.seconds else 0
        self.stdout.write(
            f"{report.decisions:,} decisions, {report.outcomes:,} outcomes, {report.approvals:,} approvals in "
            f"{report.seconds:.1f} s ({rate:,.0f} decisions/s): COPY {report.copy_seconds:.1f} s, "
            f"outcomes and approvals {report.follow_up_seconds:.1f} s, rollups {report.rollup_seconds:.1f} s"
        )
