"""Factories for the domain, so each test states only what matters to it."""

from decimal import Decimal

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User

from governance.models import Decision, Effect, Policy, Verdict
from orchestration.models import Agent, Capability, Department, ModelProvider, RiskTier

PASSWORD = "correct horse battery staple"
# Hashed once per test process, with the production hasher: PBKDF2 takes 0.4 s a password here, and most tests
# create several people. Every factory-made person has this password (and this salt).
PASSWORD_HASH = make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = PASSWORD_HASH

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"department-{n}")
    monthly_budget = Decimal("100000.00")
    risk_appetite = 50


class CapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Capability
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"task.kind{n}")


class ModelProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelProvider
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Provider {n}")
    kind = ModelProvider.Kind.SIMULATED
    cost_per_unit = Decimal("0.002")


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    name = factory.Sequence(lambda n: f"Agent {n}")
    slug = factory.Sequence(lambda n: f"agent-{n}")
    department = factory.SubFactory(DepartmentFactory)
    provider = factory.SubFactory(ModelProviderFactory)
    model_name = "sim-1"
    risk_tier = RiskTier.LIMITED
    monthly_budget = Decimal("10000.00")


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    agent = factory.SubFactory(AgentFactory)
    department = factory.SelfAttribute("agent.department")
    action = "invoice.approve"
    amount = Decimal("120.00")
    currency = "EUR"
    verdict = Verdict.ALLOW
    risk_score = 20
    latency_us = 150


class PolicyFactory(factory.django.DjangoModelFactory):
    """A policy as a Policy Admin saves it; the engine sees it only once a version is recorded."""

    class Meta:
        model = Policy
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Policy {n}")
    rationale = "The organisation decided so."
    effect = Effect.DENY

    @factory.post_generation
    def departments(self, create, extracted, **kwargs):
        if create and extracted:
            self.departments.set(extracted)

    @factory.post_generation
    def agents(self, create, extracted, **kwargs):
        if create and extracted:
            self.agents.set(extracted)

    @factory.post_generation
    def capabilities(self, create, extracted, **kwargs):
        if create and extracted:
            self.capabilities.set(extracted)


class WorkflowTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "workflows.WorkflowTemplate"
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Workflow {n}")
    slug = factory.Sequence(lambda n: f"workflow-{n}")


class StepTemplateFactory(factory.django.DjangoModelFactory):
    """A step whose action is its capability's code unless told otherwise."""

    class Meta:
        model = "workflows.StepTemplate"

    workflow = factory.SubFactory(WorkflowTemplateFactory)
    key = factory.Sequence(lambda n: f"step-{n}")
    capability = factory.SubFactory(CapabilityFactory)
    action = factory.LazyAttribute(lambda step: step.capability.code)
    position = factory.Sequence(lambda n: n)
