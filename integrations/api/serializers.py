from rest_framework import serializers

from integrations.models import PersonalToken, WebhookDelivery, WebhookSubscription
from orchestration.models import Department


class PersonalTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonalToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


class IssuedTokenSerializer(PersonalTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret: shown this once, never again.")

    class Meta(PersonalTokenSerializer.Meta):
        fields = [*PersonalTokenSerializer.Meta.fields, "token"]


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.RegexField(r"^(\*|[a-z_]+\.[a-z_]+)$", max_length=60),
        min_length=1,
        max_length=50,
        help_text='Live event types such as "decision.created", or ["*"] for every event.',
    )
    url = serializers.URLField(max_length=500, help_text="http or https; receives a signed POST per event.")
    departments = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Department.objects.all(),
        help_text="Ids of the departments whose events to send; empty (organisation-wide roles only): every event.",
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "event_types",
            "departments",
            "active",
            "consecutive_failures",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = ["active", "consecutive_failures", "disabled_reason", "created_at"]


class WebhookSubscriptionChangeSerializer(WebhookSubscriptionSerializer):
    """A change: `active` may be set too (true again resets the failure count), and what is left out stays."""

    class Meta(WebhookSubscriptionSerializer.Meta):
        read_only_fields = ["consecutive_failures", "disabled_reason", "created_at"]


class NewWebhookSubscriptionSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Verifies signatures: shown this once.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
        ]
