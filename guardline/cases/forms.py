"""Forms of the public self-declaration page and the visit report: lengths, the ID check digit, and no markup."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from engine.ids import STATUS_MESSAGES, classify_id_number

from .models import Clue

_MARKUP = re.compile(r"[<>]|javascript:|&#", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def clean_text(value: str) -> str:
    """Free text is stored as plain text: control characters removed, markup refused (pages escape it anyway)."""
    value = _CONTROL.sub("", value or "").strip()
    if _MARKUP.search(value):
        raise forms.ValidationError(_("请勿输入 < > 等特殊符号或网页代码"))
    return value


class DeclarationForm(forms.Form):
    name = forms.CharField(label=_("申报人姓名"), max_length=20)
    id_number = forms.CharField(label=_("身份证号"), max_length=30)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    address = forms.CharField(label=_("住址（组、门牌）"), max_length=100, required=False)
    concern = forms.ChoiceField(label=_("遇到了什么困难"), choices=Clue.Concern.choices)
    description = forms.CharField(
        label=_("情况说明"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4})
    )
    consent = forms.BooleanField(label=_("我承诺所填情况属实，并同意有关部门核对我家的收入、财产等信息"))
    # Honeypot: hidden from people; a bot that fills every field gives itself away.
    website = forms.CharField(required=False, max_length=200)

    def clean_name(self):
        return clean_text(self.cleaned_data["name"])

    def clean_address(self):
        return clean_text(self.cleaned_data["address"])

    def clean_description(self):
        return clean_text(self.cleaned_data["description"])

    def clean_phone(self):
        phone = re.sub(r"\s", "", self.cleaned_data["phone"] or "")
        if phone and not _PHONE.match(phone):
            raise forms.ValidationError(_("电话号码格式不正确（手机号11位，或带区号的座机号）"))
        return phone

    def clean_id_number(self):
        verdict = classify_id_number(self.cleaned_data["id_number"])
        if not verdict.accepted:
            raise forms.ValidationError(STATUS_MESSAGES.get(verdict.status, "身份证号格式错误"))
        return verdict.number


class VisitReportForm(forms.Form):
    village = forms.ChoiceField(label=_("村"))
    household_no = forms.CharField(label=_("户编号（可不填）"), max_length=32, required=False)
    concern = forms.ChoiceField(label=_("困难类型"), choices=Clue.Concern.choices)
    description = forms.CharField(
        label=_("情况说明"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [(v.code, v.name) for v in villages]

    def clean_description(self):
        return clean_text(self.cleaned_data["description"])
