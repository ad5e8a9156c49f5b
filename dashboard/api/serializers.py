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
