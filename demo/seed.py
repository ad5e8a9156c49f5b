"""Seed the demo company. Safe to run again: it creates what is missing and changes nothing else."""

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from alerting.models import AlertRule
from audit import chain
from audit.models import AuditEvent
from demo import company, pace
from demo.approvers import APPROVAL_WINDOW, people_answer
from demo.reasoning import trace_decisions
from demo.workload import AMOUNTS, make_outcome, make_request
from fastpath import writes
from governance import engine
from governance.budgets import month_start
from governance.evaluation import decision_summary, describe_hits, subject_of
from governance.models import Approval, Decision, Outcome, Policy, PolicyExample, Verdict
from governance.models.policy import ApproverRole
from governance.policies import record_policy_version
from orchestration.models import Agent, Capability, Department, ModelProvider, RiskTier
from traces.models import TokenPrice
from workflows.models import StepTemplate, Strategy, WorkflowTemplate
from workflows.strategy import set_strategy


@dataclass
class SeedReport:
    departments: int
    agents: int
    policies: int
    history_created: int


@transaction.atomic
def seed_company(*, history_days: int = 14, peak_rate: float = pace.PEAK_RATE, seed: int = 7) -> SeedReport:
    rng = random.Random(seed)
    people = _seed_people()
    departments = _seed_departments(people)
    providers = [
        ModelProvider.objects.get_or_create(
            name=name, defaults={"kind": kind, "endpoint": endpoint, "region": region, "cost_per_unit": cost}
        )[0]
        for name, kind, endpoint, region, cost in company.PROVIDERS
    ]
    capabilities = {
        code: Capability.objects.get_or_create(code=code, defaults={"description": text})[0]
        for code, text in company.CAPABILITIES.items()
    }
    _seed_agents(rng, departments, providers, capabilities, people)
    _seed_policies(departments, people["policyadmin"])
    _seed_alert_rules(people["policyadmin"])
    _seed_workflows(capabilities)
    for model, (per_input, per_output) in company.TOKEN_PRICES.items():
        TokenPrice.objects.get_or_create(model=model, defaults={"input_per_1k": per_input, "output_per_1k": per_output})
    if not Strategy.objects.filter(is_active=True).exists():
        set_strategy(**company.STRATEGY, note="Demo starting point", by=people["executive"])
    created = 0
    if not Decision.objects.exists():
        created = _seed_history(rng, history_days, peak_rate, people)
    return SeedReport(Department.objects.count(), Agent.objects.count(), Policy.objects.count(), created)


def _seed_people() -> dict[str, User]:
    people = {}
    for username, full_name, role in company.PEOPLE:
        first, last = full_name.split(" ", 1)
        user, _ = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "is_staff": True}
        )
        user.set_password(company.PASSWORD)  # the printed credentials always work, even after a change
        user.is_staff = True
        user.save()
        user.groups.add(Group.objects.get(name=role))
        people[username] = user
    admin, _ = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
    admin.set_password(company.PASSWORD)
    admin.save()
    people["admin"] = admin
    return people


def _seed_departments(people: dict[str, User]) -> dict[str, Department]:
    departments = {}
    for slug, name, budget, appetite in company.DEPARTMENTS:
        departments[slug], _ = Department.objects.get_or_create(
            slug=slug, defaults={"name": name, "monthly_budget": budget, "risk_appetite": appetite}
        )
    for username, slugs in company.SUPERVISED_BY.items():
        for slug in slugs:
            departments[slug].supervisors.add(people[username])
            if departments[slug].head_id is None:
                Department.objects.filter(pk=departments[slug].pk).update(head=people[username])
    return departments


def _seed_agents(rng, departments, providers, capabilities, people) -> None:
    for slug, department in departments.items():
        roles = company.AGENT_ROLES[slug]
        for n in range(company.AGENTS_PER_DEPARTMENT[slug]):
            role, codes = roles[n % len(roles)]
            agent_slug = f"{slug}-{role.lower()}-{n // len(roles) + 1}"
            provider = providers[rng.randrange(len(providers))]
            tier = rng.choice(company.TIERS)
            moves_money = any(c in AMOUNTS for c in codes)
            budget = rng.choice(company.MONEY_BUDGETS if moves_money else company.OTHER_BUDGETS)
            agent, created = Agent.objects.get_or_create(
                slug=agent_slug,
                defaults={
                    "name": f"{department.name} {role} Agent {n // len(roles) + 1}",
                    "department": department,
                    "provider": provider,
                    "model_name": f"{provider.name.split()[0].lower()}-{rng.choice(['small', 'large'])}",
                    "risk_tier": tier,
                    "monthly_budget": budget,
                    "owner": department.head,
                    "supervisor": people["supervisor"] if slug in company.SUPERVISED_BY["supervisor"] else None,
                },
            )
            if created:
                agent.capabilities.set([capabilities[c] for c in codes])


def _seed_alert_rules(author: User) -> None:
    for spec in company.ALERT_RULES:
        rule = AlertRule(created_by=author, **spec)
        if not AlertRule.objects.filter(name=rule.name).exists():
            rule.full_clean()
            rule.save()


def _seed_policies(departments: dict[str, Department], author: User) -> None:
    for spec in company.POLICIES:
        spec = dict(spec)
        department_slugs = spec.pop("departments", [])
        examples = spec.pop("examples", [])
        policy, created = Policy.objects.get_or_create(name=spec["name"], defaults=spec)
        if not created:
            continue
        policy.full_clean()
        policy.departments.set([departments[s] for s in department_slugs])
        record_policy_version(policy, by=author)
        for description, capability, request, expected in examples:
            agent = Agent.objects.filter(capabilities__code=capability, risk_tier__lt=RiskTier.CRITICAL).first()
            example = PolicyExample(
                policy=policy, description=description, agent=agent, request=request, expected_verdict=expected
            )
            example.full_clean()
            example.save()


def _seed_workflows(capabilities: dict[str, Capability]) -> None:
    for slug, name, sample_input, steps in company.WORKFLOWS:
        workflow, created = WorkflowTemplate.objects.get_or_create(
            slug=slug, defaults={"name": name, "sample_input": sample_input}
        )
        if created:
            StepTemplate.objects.bulk_create(
                StepTemplate(
                    workflow=workflow,
                    key=key,
                    capability=capabilities[code],
                    action=code,
                    amount_field=amount_field,
                    data_classes=data_classes,
                    depends_on=depends_on,
                    position=position,
                )
                for position, (key, code, amount_field, data_classes, depends_on) in enumerate(steps)
            )


def _seed_history(rng: random.Random, days: int, peak_rate: float, people: dict[str, User]) -> int:
    """Decisions up to this moment at the company's pace (demo.pace), decided by the real engine without side
    effects; people answered most held requests within minutes, as the simulated supervisors keep doing."""
    index = engine.current_index()
    agents = list(Agent.objects.select_related("department", "provider").prefetch_related("capabilities"))
    subjects = {a.pk: subject_of(a, frozenset(c.code for c in a.capabilities.all())) for a in agents}
    zero_inputs = {
        "agent_spend_month": lambda: 0.0,
        "department_spend_month": lambda: 0.0,
        "agent_actions_last_hour": lambda: 0,
    }
    now = timezone.now()
    decisions: list[Decision] = []
    rulings: list[engine.Ruling] = []
    for at in pace.moments(rng, now - dt.timedelta(days=days), now, peak_rate):
        agent = rng.choice(agents)
        subject = subjects[agent.pk]
        request = make_request(rng, rng.choice(sorted(subject.capability_codes)))
        engine_request = engine.Request(
            request.action,
            request.resource,
            float(request.amount or 0),
            request.currency,
            tuple(request.data_classes),
            request.context,
        )
        candidates = engine.candidates_for(index, subject, engine_request, at)
        ruling = engine.decide(candidates, subject, engine_request, at, engine.Inputs(zero_inputs))
        decisions.append(
            Decision(
                agent=agent,
                department=agent.department,
                action=request.action,
                resource=request.resource,
                amount=request.amount,
                currency=request.currency,
                data_classes=request.data_classes,
                context=request.context,
                verdict=ruling.verdict,
                shadow_verdict=ruling.shadow_verdict,
                risk_score=ruling.risk_score,
                explanation=ruling.explanation,
                matched_policies=describe_hits(ruling),
                policy_versions=ruling.evaluated_version_ids,
                latency_us=rng.randint(2_000, 15_000),
                created_at=at,
            )
        )
        rulings.append(ruling)
    trace_decisions(random.Random(len(decisions)), decisions)  # its own draws: the rest of history stays as it was
    writes.insert(decisions)
    approvals: list[Approval] = []
    escalations: dict[int, list[_Escalation]] = {}  # by decision
    outcomes: list[Outcome] = []
    for decision, ruling in zip(decisions, rulings, strict=True):
        executes = decision.verdict in (Verdict.ALLOW, Verdict.FLAG)
        if decision.verdict == Verdict.REQUIRE_APPROVAL:
            role = ruling.approval_policy.approver_role if ruling.approval_policy else ApproverRole.SUPERVISOR
            approval, escalations[decision.pk] = _answered_in_time(rng, decision, role, people, now)
            approvals.append(approval)
            executes = approval.status == Approval.Status.APPROVED
        if executes:
            outcome = make_outcome(rng, decision.action, decision.amount)
            outcomes.append(Outcome(decision=decision, reported_by=f"agent:{decision.agent.slug}", **outcome))
    writes.insert(approvals)
    writes.insert(outcomes)
    approval_of = {a.decision_id: a for a in approvals}
    events = [
        AuditEvent(
            occurred_at=d.created_at,
            actor_label=f"agent:{d.agent.slug}",
            kind="decision.created",
            subject_type="decision",
            subject_id=str(d.pk),
            department_id=d.department_id,
            after=chain.plain(decision_summary(d, approval_of.get(d.pk))),
        )
        for d in decisions
    ]
    for approval in approvals:
        events += _approval_events(approval, escalations[approval.decision_id])
    # One chain in the order things happened (a stable sort: a decision before the request it raised), in one
    # bulk append, as the decisions alone were
    chain.append(sorted(events, key=lambda event: event.occurred_at))
    if decisions:  # with no history there is nothing to size them from: the seeded budgets stand
        _size_budgets(now, days)
    _book_month_spend(now)
    return len(decisions)


@dataclass(frozen=True)
class _Escalation:
    """One deadline passed: what the request left and what it reached, as governance.approvals records them."""

    at: dt.datetime
    before: dict  # approver_role, deadline
    after: dict  # approver_role, escalation_level, deadline


def _answered_in_time(
    rng: random.Random, decision: Decision, role: str, people, now: dt.datetime
) -> tuple[Approval, list[_Escalation]]:
    """A held request as the simulated approvers leave it: answered after their usual delay, escalated at its
    deadline when nobody answered (and expired at the top), or still waiting now; with its escalations."""
    approval = Approval(
        decision=decision,
        department=decision.department,
        approver_role=role,
        status=Approval.Status.PENDING,
        requested_at=decision.created_at,
        deadline=decision.created_at + APPROVAL_WINDOW,
        escalation_level=0,
    )
    reached = decision.created_at
    escalations: list[_Escalation] = []
    while True:
        answer = people_answer(rng)
        if answer is not None and reached + answer.after <= min(now, approval.deadline):
            approval.status = Approval.Status.APPROVED if answer.approve else Approval.Status.REJECTED
            approval.decided_by = people[_approver(approval)]
            approval.decided_at, approval.comment = reached + answer.after, answer.comment
            return approval, escalations
        if approval.deadline > now:
            return approval, escalations  # still waiting: the simulator's approvers, or the deadline, take it on
        if approval.approver_role == ApproverRole.EXECUTIVE:
            approval.status, approval.decided_at = Approval.Status.EXPIRED, approval.deadline
            return approval, escalations
        reached = approval.deadline  # escalated, as `escalate_overdue` does at the deadline
        before = {"approver_role": approval.approver_role, "deadline": approval.deadline}
        approval.approver_role, approval.escalation_level = ApproverRole.EXECUTIVE, approval.escalation_level + 1
        approval.deadline = reached + APPROVAL_WINDOW
        after = {
            "approver_role": approval.approver_role,
            "escalation_level": approval.escalation_level,
            "deadline": approval.deadline,
        }
        escalations.append(_Escalation(reached, before, after))


def _approval_events(approval: Approval, escalations: list[_Escalation]) -> list[AuditEvent]:
    """The audit events the live path writes for a held request (governance.evaluation, governance.approvals):
    requested by the agent, escalated at each deadline, decided by the person (or expired at the last deadline).

    The request's role and deadline were those its first escalation left, or are still the approval's.
    """
    decision = approval.decision
    first = escalations[0].before if escalations else {}
    base = {"approval_id": approval.pk, "decision_id": decision.pk, "agent_id": decision.agent_id}

    def event(kind: str, at: dt.datetime, actor_label: str, before: dict | None, after: dict, actor=None):
        return AuditEvent(
            occurred_at=at,
            actor=actor,
            actor_label=actor_label,
            kind=kind,
            subject_type="approval",
            subject_id=str(approval.pk),
            department_id=approval.department_id,
            before=chain.plain(before),
            after=chain.plain({**base, **after}),
        )

    policy = next(
        (hit.get("id") for hit in decision.matched_policies or [] if hit.get("effect") == "require_approval"), None
    )
    requested = {
        "approver_role": first.get("approver_role", approval.approver_role),
        "deadline": first.get("deadline", approval.deadline),
        "policy_id": policy,
    }
    events = [event("approval.requested", approval.requested_at, f"agent:{decision.agent.slug}", None, requested)]
    for escalation in escalations:
        after = {"status": Approval.Status.PENDING, **escalation.after}
        events.append(event("approval.escalated", escalation.at, "system:deadline", escalation.before, after))
    if approval.status == Approval.Status.EXPIRED:
        after = {
            "status": approval.status,
            "approver_role": approval.approver_role,
            "escalation_level": approval.escalation_level,
            "deadline": approval.deadline,
        }
        before = {"approver_role": approval.approver_role, "deadline": approval.deadline}
        events.append(event("approval.resolved", approval.decided_at, "system:deadline", before, after))
    elif approval.decided_by is not None:
        person = approval.decided_by
        after = {
            "status": approval.status,
            "comment": approval.comment,
            "waited_seconds": round((approval.decided_at - approval.requested_at).total_seconds()),
        }
        before = {"status": Approval.Status.PENDING}
        label = f"user:{person.get_username()}"
        events.append(event("approval.resolved", approval.decided_at, label, before, after, actor=person))
    return events


def _approver(approval: Approval) -> str:
    supervised = approval.department.slug in company.SUPERVISED_BY["supervisor"]
    return "supervisor" if approval.approver_role == ApproverRole.SUPERVISOR and supervised else "executive"


def _size_budgets(now: dt.datetime, days: int) -> None:
    """Monthly budgets sized from what each agent spent in the history: a month of it with headroom, a few tight.

    A budget set without looking at the work makes the spend tile meaningless (a few percent or several
    hundred); this is what a finance team would do after a fortnight of watching the agents.
    """
    since = now - dt.timedelta(days=days)
    spent = dict(
        Decision.objects.filter(created_at__gte=since, outcome__isnull=False, amount__isnull=False)
        .values_list("agent_id")
        .annotate(total=Sum("amount"))
    )
    rng = random.Random(11)
    by_department: dict[int, Decimal] = {}
    for agent in Agent.objects.order_by("pk"):
        month = Decimal(spent.get(agent.pk, 0)) * Decimal(30) / Decimal(days)
        headroom = Decimal(str(rng.choice((1.0, 1.3, 1.5, 1.6, 1.7, 1.9))))
        budget = max(Decimal(1000), (month * headroom / 1000).quantize(Decimal(1)) * 1000)
        Agent.objects.filter(pk=agent.pk).update(monthly_budget=budget)
        by_department[agent.department_id] = by_department.get(agent.department_id, Decimal(0)) + budget
    for department_id, total in by_department.items():
        Department.objects.filter(pk=department_id).update(monthly_budget=(total * Decimal("1.1")).quantize(Decimal(1)))


def _book_month_spend(now: dt.datetime) -> None:
    """Charge this month's executed history to the agents' and departments' budgets."""
    month = month_start(now)
    since = dt.datetime.combine(month, dt.time.min, tzinfo=dt.UTC)
    spent = (
        Decision.objects.filter(created_at__gte=since, outcome__isnull=False, amount__isnull=False)
        .values("agent_id", "department_id")
        .annotate(total=Sum("amount"))
    )
    by_department: dict[int, Decimal] = {}
    for row in spent:
        Agent.objects.filter(pk=row["agent_id"]).update(month_spent=row["total"], spend_month=month)
        by_department[row["department_id"]] = by_department.get(row["department_id"], Decimal("0")) + row["total"]
    for department_id, total in by_department.items():
        Department.objects.filter(pk=department_id).update(month_spent=total, spend_month=month)
