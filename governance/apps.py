from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "governance"

    def ready(self) -> None:
        from django.db.models import Q

        from audit import retention
        from governance.models import Approval, Decision, Outcome, Override

        # A decision leaves with what hangs on it; one still waiting for a person stays until answered.
        retention.register(
            retention.RecordKind(
                "decisions",
                Decision,
                "created_at",
                parts=((Outcome, "decision"), (Approval, "decision"), (Override, "decision")),
                keep=Q(approval__status=Approval.Status.PENDING),
            )
        )
