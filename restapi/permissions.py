"""Who may call what. Roles grant Django permissions (orchestration.roles); scope is applied by each
view's queryset (orchestration.scoping), so an object outside a person's departments is a 404."""

from rest_framework.permissions import BasePermission, DjangoModelPermissions


def is_person(request) -> bool:
    return bool(request.user and request.user.is_authenticated) and not getattr(request.user, "is_agent", False)


class IsPerson(BasePermission):
    message = "This endpoint is for people: sign in, or use a personal token."

    def has_permission(self, request, view) -> bool:
        return is_person(request)


class ModelPermissions(DjangoModelPermissions):
    """A person, holding the model's view permission to read and add/change/delete to write."""

    message = "Your role does not allow this."
    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        return is_person(request) and super().has_permission(request, view)


def holds(*perms: str) -> type[BasePermission]:
    """A permission class requiring a person holding every one of these Django permissions."""

    class Holds(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request, view) -> bool:
            return is_person(request) and request.user.has_perms(perms)

    Holds.__name__ = f"Holds({', '.join(perms)})"
    return Holds
