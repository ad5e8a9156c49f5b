"""Migrate and seed a fresh stack for load: the demo company (people, departments, policies, workflows), N agents
with API keys, and one browser session per dashboard socket. Run inside the stack's environment:
`python -m bench.stack.seed AGENTS SOCKETS OUT.json`; writes what the clients need to OUT.json."""

import json
import os
import sys
from decimal import Decimal

import django

LOAD_BUDGET = Decimal("1000000000.00")  # load agents never run out of budget: the point is the path, not refusals
SOCKET_USERS = ("executive", "supervisor")  # the whole organisation, and two departments
WORKFLOW = "supplier-invoice"


def seed(agents: int, sockets: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from demo import company
    from demo.seed import seed_company
    from orchestration.keys import issue_key
    from orchestration.models import Agent, Capability, Department, ModelProvider, RiskTier
    from workflows.models import WorkflowTemplate

    seed_company(history_days=0)
    departments = list(Department.objects.order_by("pk"))
    provider = ModelProvider.objects.order_by("pk").first()
    capabilities = {c.code: c for c in Capability.objects.all()}
    made = []
    with transaction.atomic():
        for n in range(agents):
            department = departments[n % len(departments)]
            _, codes = company.AGENT_ROLES[department.slug][0]
            agent = Agent.objects.create(
                name=f"Load Agent {n + 1}",
                slug=f"load-{n + 1}",
                department=department,
                provider=provider,
                model_name="sim-1",
                risk_tier=RiskTier.MINIMAL,
                monthly_budget=LOAD_BUDGET,
            )
            agent.capabilities.set([capabilities[c] for c in codes])
            made.append({"id": agent.pk, "key": issue_key(agent), "action": codes[0]})
    sessions = []
    for n in range(sockets):
        user = User.objects.get(username=SOCKET_USERS[n % len(SOCKET_USERS)])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]  # as a password login records it
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append({"user": user.username, "session": session.session_key})
    workflow = WorkflowTemplate.objects.get(slug=WORKFLOW)
    return {"agents": made, "sessions": sessions, "workflow": {"slug": workflow.slug, "input": workflow.sample_input}}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)  # in this process: one Django start fewer
    agents, sockets, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(out, "w") as file:
        json.dump(seed(agents, sockets), file)
