"""Alert rules (Policy Admins write them; everyone with a role reads those of their scope) and alerts (read)."""

import django_filters
from django.db.models import QuerySet
from rest_framework import viewsets

from alerting.api.serializers import AlertRuleSerializer, AlertSerializer
from alerting.listing import alerts_for
from alerting.models import Alert, AlertRule
from alerting.rules import record_rule_change
from orchestration.scoping import scope_to_all_departments
from restapi.permissions import ModelPermissions


class AlertRuleViewSet(viewsets.ModelViewSet):
    """Alert rules. A rule naming departments is read by those who see all of them; one naming none (the whole
    organisation) by organisation-wide roles. Writing needs a Policy Admin's permissions."""

    serializer_class = AlertRuleSerializer
    permission_classes = [ModelPermissions]
    queryset = AlertRule.objects.all()

    def get_queryset(self) -> QuerySet:
        rules = AlertRule.objects.prefetch_related("departments").order_by("name")
        return scope_to_all_departments(rules, self.request.user)

    def perform_create(self, serializer: AlertRuleSerializer) -> None:
        rule = serializer.save(created_by=self.request.user)
        record_rule_change(rule, by=self.request.user, action="created")

    def perform_update(self, serializer: AlertRuleSerializer) -> None:
        rule = serializer.save()
        record_rule_change(rule, by=self.request.user, action="changed")

    def perform_destroy(self, instance: AlertRule) -> None:
        record_rule_change(instance, by=self.request.user, action="deleted")
        instance.delete()


class AlertFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Alert.Status.choices)
    rule = django_filters.NumberFilter(field_name="rule_id")
    department = django_filters.NumberFilter(field_name="department_id")

    class Meta:
        model = Alert
        fields = ["status", "rule", "department"]


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts of the caller's scope, newest first: their departments', and the organisation's for
    organisation-wide roles. `?status=open` for those open now."""

    serializer_class = AlertSerializer
    permission_classes = [ModelPermissions]
    queryset = Alert.objects.all()
    filterset_class = AlertFilterSet

    def get_queryset(self) -> QuerySet:
        return alerts_for(self.request.user).order_by("-opened_at", "-pk")
