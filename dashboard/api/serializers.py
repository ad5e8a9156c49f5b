from rest_framework import serializers


class PeriodSerializer(serializers.Serializer):
    key = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    grain = serializers.CharField()
    label = serializers.CharField()


class TileSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True, help_text="The same figure for the period before.")
    change = serializers.FloatField(allow_null=True, help_text="Points for percentages, relative % otherwise.")
    unit = serializers.ChoiceField(choices=["count", "percent", "money", "seconds"])
    higher_is_better = serializers.BooleanField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class TrendSerializer(serializers.Serializer):
    buckets = serializers.ListField(child=serializers.DateTimeField())
    decisions = serializers.ListField(child=serializers.IntegerField())
    rates = serializers.DictField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)))


class KpiSerializer(serializers.Serializer):
    period = PeriodSerializer()
    departments = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True, help_text="null: every department the caller may see."
    )
    tiles = TileSerializer(many=True)
    trend = TrendSerializer()


class AgentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    slug = serializers.CharField()
    department = serializers.IntegerField(source="department_id")


class LeagueRowSerializer(serializers.Serializer):
    agent = AgentRefSerializer()
    status = serializers.CharField(help_text="The agent's status, or its department's when that stops it.")
    decisions = serializers.IntegerField(source="figures.decisions")
    violations = serializers.IntegerField(source="figures.violations")
    violation_rate = serializers.FloatField(source="figures.violation_rate", allow_null=True)
    spend = serializers.DecimalField(source="figures.spend", max_digits=18, decimal_places=2)
    value = serializers.DecimalField(source="figures.value", max_digits=18, decimal_places=2)
    csat = serializers.FloatField(source="figures.csat", allow_null=True)
    average_risk = serializers.FloatField(source="figures.average_risk", allow_null=True)
    high_risk_rate = serializers.FloatField(source="figures.high_risk_rate", allow_null=True)


class LeagueSerializer(serializers.Serializer):
    period = PeriodSerializer()
    sort = serializers.CharField()
    violation_definition = serializers.CharField()
    high_risk_definition = serializers.CharField()
    rows = LeagueRowSerializer(many=True)


class GraphNodeSerializer(serializers.Serializer):
    agent = AgentRefSerializer()
    delegated = serializers.IntegerField()
    received = serializers.IntegerField()
    shared = serializers.IntegerField()


class GraphEdgeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="delegation: source handed runs to target; shared: both worked them.")
    source = serializers.IntegerField(help_text="Agent id.")
    target = serializers.IntegerField(help_text="Agent id.")
    count = serializers.IntegerField(help_text="Workflow runs started in the period.")


class InteractionsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)
    truncated = serializers.BooleanField(help_text="Lighter edges were left out (the heaviest are kept).")


class FrameworkRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    edition = serializers.CharField()


class EvidencePeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    label = serializers.CharField()


class NewestRecordSerializer(serializers.Serializer):
    label = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(allow_blank=True, help_text="Where it is shown; empty when you may not open it.")


class ControlEvidenceSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The framework's reference, e.g. 'Art. 14(4)(e)' or 'MANAGE 2.4'.")
    title = serializers.CharField(help_text="A paraphrase of what the control asks.")
    feature = serializers.CharField(help_text="The Regent feature that serves it.")
    records = serializers.CharField(help_text="The records that prove it.")
    query = serializers.CharField(help_text="The named query that finds them (dashboard.compliance.queries).")
    coverage = serializers.ChoiceField(choices=["full", "partial"])
    deployer_adds = serializers.CharField(allow_blank=True, help_text="For partial controls: what you must add.")
    status = serializers.ChoiceField(
        choices=["evidence", "none", "withheld"],
        help_text="evidence: records found in the period; none: no evidence in this period; withheld: not yours.",
    )
    status_label = serializers.CharField()
    count = serializers.IntegerField(allow_null=True, help_text="Records in the period; null when withheld.")
    withheld = serializers.CharField(allow_blank=True)
    newest = NewestRecordSerializer(allow_null=True)


class ControlsSerializer(serializers.Serializer):
    format = serializers.CharField()
    library_version = serializers.IntegerField()
    framework = FrameworkRefSerializer()
    period = EvidencePeriodSerializer()
    scope = serializers.CharField(help_text="The departments the evidence covers.")
    generated_at = serializers.DateTimeField()
    evidence_pack = serializers.DictField(help_text="How to export the period's signed evidence pack.")
    controls = ControlEvidenceSerializer(many=True)
