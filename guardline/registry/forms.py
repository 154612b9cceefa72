from __future__ import annotations

from django import forms

from .models import Member
from .services import MEMBER_EDITABLE


class MemberForm(forms.ModelForm):
    """Edit a member's attributes; the ID number and household are not editable here."""

    class Meta:
        model = Member
        fields = list(MEMBER_EDITABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
        self.fields["disability_grade"].widget.attrs.update(min=1, max=4)
        self.fields["work_months"].widget.attrs.update(min=0, max=12)

    def clean_disability_grade(self):
        grade = self.cleaned_data.get("disability_grade")
        if grade is not None and not 1 <= grade <= 4:
            raise forms.ValidationError("残疾等级应为 1–4")
        return grade

    def clean_work_months(self):
        months = self.cleaned_data.get("work_months")
        if months is not None and not 0 <= months <= 12:
            raise forms.ValidationError("务工时间应为 0–12 个月")
        return months
