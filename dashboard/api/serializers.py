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
