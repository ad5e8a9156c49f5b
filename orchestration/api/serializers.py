from rest_framework import serializers

from governance.api.serializers import EvaluateRequestSerializer
from orchestration.models import Capability


class DelegateSerializer(EvaluateRequestSerializer):
    """A sub-task: the capability it needs and the action, as an evaluate request."""

    capability = serializers.SlugRelatedField(slug_field="code", queryset=Capability.objects.all())


class StartRunSerializer(serializers.Serializer):
    input = serializers.DictField(required=False, default=dict)
