from django import template

from dashboard.navigation import NavGroup

register = template.Library()


@register.filter
def nav_current(group: NavGroup, path: str) -> bool:
    """Whether the page shown is one of the group's: its heading is marked as the current place."""
    return group.current(path)
