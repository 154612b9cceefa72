from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guardline.cases.models import Clue

from . import catalogue
from .models import Visit

BOOL_CHOICES = [("", _("未核实/不变")), ("0", _("无问题")), ("1", _("有问题"))]


class PhoneForm(forms.Form):
    """Bootstrap classes on every widget, so each control takes the width it is given (a select with a long option
    would otherwise push a 390 px phone page sideways)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class MeasureForm(PhoneForm):
    code = forms.ChoiceField(label=_("措施"), choices=catalogue.choices())
    description = forms.CharField(label=_("措施内容"), max_length=300, required=False)
    amount = forms.DecimalField(
        label=_("金额（元）"), min_value=0, max_digits=12, decimal_places=2, required=False
    )
    start_date = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    responsible = forms.ModelChoiceField(label=_("责任人"), queryset=None, required=False)  # type: ignore[arg-type]

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = candidates  # type: ignore[attr-defined]


class VisitForm(PhoneForm):
    kind = forms.ChoiceField(label=_("走访方式"), choices=Visit.Kind.choices)
    notes = forms.CharField(label=_("走访情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    year = forms.IntegerField(label=_("收入年度"), required=False, min_value=2000)
    wage_income = forms.DecimalField(label=_("工资性收入"), min_value=0, required=False)
    business_income = forms.DecimalField(label=_("生产经营性收入"), min_value=0, required=False)
    transfer_income = forms.DecimalField(label=_("转移性收入"), min_value=0, required=False)
    business_cost = forms.DecimalField(label=_("生产经营性支出"), min_value=0, required=False)
    compliant_out_of_pocket = forms.DecimalField(label=_("合规自付支出"), min_value=0, required=False)
    housing_unsafe = forms.ChoiceField(label=_("住房安全"), choices=BOOL_CHOICES, required=False)
    water_unsafe = forms.ChoiceField(label=_("饮水安全"), choices=BOOL_CHOICES, required=False)
    dropout = forms.ChoiceField(label=_("义务教育"), choices=BOOL_CHOICES, required=False)
    uninsured_member = forms.ChoiceField(label=_("基本医疗保险"), choices=BOOL_CHOICES, required=False)

    def updates(self) -> dict:
        d = self.cleaned_data
        out: dict = {}
        for k in (
            "wage_income",
            "business_income",
            "transfer_income",
            "business_cost",
            "compliant_out_of_pocket",
        ):
            if d.get(k) is not None:
                out[k] = d[k]
        for k in ("housing_unsafe", "water_unsafe", "dropout", "uninsured_member"):
            if d.get(k) in ("0", "1"):
                out[k] = d[k] == "1"
        if out and d.get("year"):
            out["year"] = d["year"]
        return out


class ReidentifyForm(PhoneForm):
    concern = forms.ChoiceField(label=_("困难类型"), choices=Clue.Concern.choices)
    description = forms.CharField(
        label=_("情况说明"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
