from django.core.management.base import BaseCommand, CommandError

from governance.models import Policy
from governance.policy_examples import run_examples


class Command(BaseCommand):
    help = "Run every policy's examples; exit non-zero when any example gets another verdict."

    def handle(self, *args, **options):
        failed = total = 0
        for policy in Policy.objects.prefetch_related("examples"):
            for result in run_examples(policy):
                total += 1
                mark = "ok  " if result.passed else "FAIL"
                self.stdout.write(
                    f"{mark} {policy.name} / {result.example.description}: "
                    f"expected {result.example.expected_verdict}, got {result.verdict}"
                )
                failed += not result.passed
        if failed:
            raise CommandError(f"{failed} of {total} policy examples failed.")
        self.stdout.write(self.style.SUCCESS(f"All {total} policy examples pass."))
