"""Cursor pagination: stable pages over lists that grow while a client walks them."""

from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    ordering = ("-pk",)


class ChainOrder(NewestFirst):
    """The audit log in chain order, so an integration can read it forward and resume where it stopped."""

    ordering = ("seq",)
