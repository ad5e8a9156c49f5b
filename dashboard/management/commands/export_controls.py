import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.compliance import export
from dashboard.compliance.library import library
from dashboard.compliance.report import framework_report
from dashboard.periods import PERIOD_CHOICES, FilterForm


class Command(BaseCommand):
    help = (
        "Write a framework's controls with their evidence and the period's signed evidence pack as the ZIP the "
        "controls page downloads, for a person who may download it there (an Auditor)."
    )

    def add_arguments(self, parser):
        frameworks = ", ".join(framework.slug for framework in library().frameworks)
        parser.add_argument("--framework", required=True, help=f"One of: {frameworks}")
        parser.add_argument(
            "--period", default="30d", help=f"{', '.join(key for key, _ in PERIOD_CHOICES)} (default 30d)"
        )
        parser.add_argument("--start", help="First day of a custom period, e.g. 2026-11-01")
        parser.add_argument("--end", help="Last day of a custom period, e.g. 2026-11-30")
        parser.add_argument("--department", action="append", default=[], help="A department's id; repeat for more")
        parser.add_argument("--user", required=True, help="Whose export: their scope and permissions apply")
        parser.add_argument("-o", "--output", required=True, help="The ZIP file to write")

    def handle(self, *args, framework, period, start, end, department, user, output, **options):
        viewer = get_user_model().objects.filter(username=user, is_active=True).first()
        if viewer is None:
            raise CommandError(f"No active user named {user!r}.")
        refusal = export.bundle_refusal(viewer)
        if refusal:
            raise CommandError(f"{user}: {refusal}")
        found = library().framework(framework)
        if found is None:
            slugs = ", ".join(f.slug for f in library().frameworks)
            raise CommandError(f"No framework {framework!r} in the control library; one of: {slugs}.")
        data = {"period": period, "start": start or "", "end": end or "", "department": department}
        filters = FilterForm(data, user=viewer)
        if not filters.is_valid():
            problems = "; ".join(f"--{field}: {' '.join(errors)}" for field, errors in filters.errors.items())
            raise CommandError(problems)
        report = framework_report(viewer, found, filters.get_period(), filters.department_ids())
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a directory.")
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".writing-", suffix=".zip")
        try:
            with os.fdopen(handle, "wb") as file:
                export.write_bundle(report, file, settings.SITE_URL.rstrip("/"))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(
            f"Wrote {target}: {report.framework.name}, {report.period.label}, {report.scope_label}. Check it with: "
            f"python -m dashboard.compliance.bundle_check {target} --public-key {export.public_key_b64()}"
        )
