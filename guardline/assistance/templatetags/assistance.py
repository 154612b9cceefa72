"""`{% household_story household %}`: the household page's whole story (clues, warnings, steps, decisions, plan and
measures, visits, eliminations, income by year), read through the region-scoped selector."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.translation import gettext

from guardline.accounts.roles import Perm, has_perm

from .. import procedure, selectors

register = template.Library()


@register.inclusion_tag("assistance/_household_story.html", takes_context=True)
def household_story(context, household):
    user = context["request"].user
    story = selectors.household_story(user, household)
    story["cadres"] = list(selectors.household_cadres(user, household))
    story["can_visit"] = has_perm(user, Perm.REPORT_VISIT)
    story["household_pk"] = household.pk
    return {"story": story}


@register.filter
def elimination_action(action: str) -> str:
    """An elimination step's action as its (translated) label: `{{ step.action|elimination_action }}`."""
    if action == "start":
        return gettext("发起风险消除")
    label = procedure.ACTION_LABELS.get(action)  # type: ignore[call-overload]
    return gettext(label) if label else action


@register.filter
def still_running(end) -> bool:
    """Whether a period (a public notice) has not ended yet: `{% if elim.notice_ends_at|still_running %}`."""
    return bool(end and timezone.now() < end)
