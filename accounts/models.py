"""How people sign in: the identity provider's groups mapped to Regent's roles and departments, and who is who."""

from django.conf import settings
from django.db import models

from orchestration.models import Department
from orchestration.roles import Role


class GroupMapping(models.Model):
    """One group at the identity provider and what its members get in Regent, applied at each sign-in."""

    idp_group = models.CharField(
        "group at the identity provider",
        max_length=200,
        unique=True,
        help_text="Exactly as the provider sends it in the groups claim (OIDC_GROUPS_CLAIM), e.g. regent-finance.",
    )
    role = models.CharField(max_length=20, choices=[(role, role) for role in Role.ALL], blank=True)
    departments = models.ManyToManyField(
        Department,
        blank=True,
        related_name="+",
        help_text="Departments the group's members oversee; they see them with the Supervisor role.",
    )

    class Meta:
        ordering = ["idp_group"]

    def __str__(self) -> str:
        return self.idp_group


class SignInIdentity(models.Model):
    """The person the identity provider knows by `subject` (its `sub` claim, which never changes) is `user`."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_in_identity")
    subject = models.CharField(max_length=255, unique=True, help_text="The provider's `sub` claim for this person.")
    groups = models.JSONField(default=list, blank=True, help_text="The groups the provider sent at the last sign-in.")
    last_sign_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"

    def __str__(self) -> str:
        return f"{self.user} ({self.subject})"
