"""Paging that stays fast on a million rows: the count stops at a cap.

An exact COUNT(*) over a county's million households costs a full index scan on every page view; people page
through the first few screens and refine filters after that. So the count is exact up to CAP rows and shown as
"CAP+" beyond, and pages past CAP are not offered (the list asks for a filter instead)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

CAP = 10_000


class CappedPaginator(Paginator):
    cap = CAP

    @cached_property
    def count(self) -> int:
        # Unordered, limited subquery: the database stops after cap + 1 rows.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        return super().num_pages if not self.capped else max(1, self.cap // self.per_page)
