"""`manage.py demo`: migrate, seed a simulated company, serve it, and keep its agents and approvers working."""

import threading

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from audit import chain, sequencer
from demo import company, pace
from demo.seed import seed_company
from demo.simulator import Simulator


class Command(BaseCommand):
    help = "Run the Regent demo: a simulated company whose agents keep proposing actions and whose people answer."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--rate",
            type=float,
            default=pace.PEAK_RATE,
            help="Actions per second at the busiest hour of a working day (quieter at night and at weekends). "
            "A first run seeds two weeks of history at this pace.",
        )
        parser.add_argument("--seed-only", action="store_true", help="Seed the company and exit.")

    def handle(self, *args, host: str, port: int, rate: float, seed_only: bool, **options):
        if rate <= 0:
            self.stderr.write(self.style.ERROR("--rate must be a positive number of actions per second."))
            raise SystemExit(2)
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:  # pages name their assets through the manifest collectstatic writes
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("Seeding the demo company (a first run writes two weeks of history)…")
        report = seed_company(peak_rate=rate)
        self.stdout.write(
            f"  {report.departments} departments, {report.agents} agents, {report.policies} policies, "
            f"{report.history_created} historical decisions added."
        )
        if seed_only:
            if chain.queued():
                chain.integrate_all()  # what seeding queued is in the chain when the command returns
            return
        stop_sequencing = self._sequence_audit_events()
        self.stdout.write(self.style.SUCCESS(f"\nRegent is running at http://{host}:{port}/\n"))
        self.stdout.write(f"Log in as (password for all: {company.PASSWORD}):")
        for username, full_name, role in company.PEOPLE:
            self.stdout.write(f"  {username:<12} {role:<13} {full_name}")
        self.stdout.write(f"  {'admin':<12} {'superuser':<13} Django admin")
        self.stdout.write(
            f"\nSimulated agents act up to {rate:g} times a second at the busiest hour; simulated approvers answer "
            "most held requests within minutes. Stop with Ctrl+C.\n"
        )
        simulator = Simulator(peak=rate)
        simulator.start()
        try:
            uvicorn.run("config.asgi:application", host=host, port=port, log_level="warning", lifespan="off")
        finally:
            simulator.stop()
            stop_sequencing.set()

    def _sequence_audit_events(self) -> threading.Event:
        """On PostgreSQL (queued audit sequencing) the demo runs its own sequencer, as `make up` runs one beside the
        web processes; set the event returned to stop it. Another running sequencer keeps it on standby."""
        stop = threading.Event()
        if chain.queued():
            threading.Thread(target=sequencer.run, args=(stop,), name="audit-sequencer", daemon=True).start()
        return stop
