"""The rule editor's form: a trigger's fields, checked by the engine's own validation (engine.screening.rules) so
that an error names the field it is in and the page keeps everything the administrator typed."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from engine.ingest.feeds import FEED_KEYS
from engine.ingest.specs import SPECS
from engine.screening.rules import RISK_CODES, Rule, RuleError, validate
from engine.screening.steps import DATE_COLUMNS
from guardline.cases.forms import clean_text

NEW_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _risk_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {name}") for code, name in RISK_CODES.items()] + [("disaster", _("按灾种"))]


class RuleForm(forms.Form):
    code = forms.CharField(label=_("规则代码"), max_length=40)
    title = forms.CharField(label=_("名称"), max_length=100)
    risk_type = forms.ChoiceField(label=_("风险类型"), choices=_risk_choices)
    severity = forms.ChoiceField(
        label=_("严重程度"), choices=[("hard", _("一般（至少黄色）")), ("severe", _("严重（红色）"))]
    )
    condition = forms.CharField(
        label=_("条件"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace", "spellcheck": "false"}),
    )
    signal_date = forms.ChoiceField(
        label=_("信号日期"),
        required=False,
        choices=[("", _("筛查日"))] + [(c, c) for c in DATE_COLUMNS],
    )
    reason = forms.CharField(label=_("原因模板"), max_length=300)
    sources = forms.MultipleChoiceField(
        label=_("依据的部门数据"),
        required=False,
        choices=[(k, f"{SPECS[k].title_zh}") for k in FEED_KEYS],
        widget=forms.CheckboxSelectMultiple,
    )
    # (not "region": that is the trial's region on the same page)
    applies_to = forms.ChoiceField(label=_("适用地区"), required=False, choices=[("", _("全省"))])
    is_active = forms.BooleanField(label=_("启用"), required=False)
    note = forms.CharField(label=_("修改依据（文件号、会议纪要等）"), max_length=200, required=False)

    def __init__(
        self,
        *args,
        code: str | None = None,
        taken: set[str] | frozenset[str] = frozenset(),
        visible: set[str] | frozenset[str] | None = None,
        regions: list[tuple[str, str]] | None = None,
        **kwargs,
    ):
        """`code`: editing that rule, whose code is fixed; otherwise a new rule, whose code is not in `taken`.
        `regions`: (code, label) of the regions the rule may be kept for ("" = the whole province), as the user
        may choose them (services.can_edit_rules); the rule's own region is offered too, to show it."""
        super().__init__(*args, **kwargs)
        self.fixed_code = code
        self.taken = taken
        self.visible = taken if visible is None else visible  # the taken codes whose rules the user may open
        if regions is not None:
            self.fields["applies_to"].choices = regions
            # without the whole province among them, a region must be chosen (blank would mean the province)
            self.fields["applies_to"].required = "" not in {c for c, _label in regions}
        if code:
            self.fields["code"].disabled = True
            self.initial.setdefault("code", code)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
                continue
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control"
            size = "" if "select" in css else " form-control-sm"
            field.widget.attrs["class"] = f"{css}{size} {field.widget.attrs.get('class', '')}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if self.fixed_code:  # an existing rule keeps its code, whatever rules applied when it was made
            return self.fixed_code
        if not NEW_CODE.match(code):
            raise forms.ValidationError(_("小写字母开头，只用小写字母、数字和下划线，不超过40个字符"))
        if code in self.taken and code in self.visible:
            raise forms.ValidationError(_("规则代码已存在：请在该规则的页面上修改"))
        if code in self.taken:  # another region's own rule: its page is not this user's to open
            raise forms.ValidationError(_("规则代码已被其他地区的规则使用，请换一个"))
        return code

    @classmethod
    def of(cls, rule: Rule, is_active: bool, regions: list[tuple[str, str]] | None = None) -> RuleForm:
        """The form filled with a rule as it is in force."""
        return cls(
            code=rule.code,
            regions=regions,
            initial={
                "code": rule.code, "title": rule.title_zh, "risk_type": rule.risk_type, "severity": rule.severity,
                "condition": rule.condition, "signal_date": rule.signal_date, "reason": rule.reason,
                "sources": list(rule.sources), "is_active": is_active, "applies_to": rule.region,
            },
        )  # fmt: skip

    def clean_title(self) -> str:
        return clean_text(self.cleaned_data["title"])

    def clean_note(self) -> str:
        return clean_text(self.cleaned_data["note"])

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            validate(self.rule())
        except RuleError as exc:
            # Under the field the engine says it is about (the form's fields are named as the rule's, but title).
            field = {"title_zh": "title", "region": "applies_to"}.get(exc.field, exc.field)
            self.add_error(field if field in self.fields else None, str(exc))
        return data

    def rule(self) -> Rule:
        d = self.cleaned_data
        return Rule(
            code=self.fixed_code or d["code"],
            title_zh=d["title"],
            risk_type=d["risk_type"],
            severity=d["severity"],
            condition=d["condition"].strip(),
            signal_date=d.get("signal_date") or "",
            reason=d["reason"],
            sources=tuple(d.get("sources") or ()),
            region=d.get("applies_to") or "",
        )
