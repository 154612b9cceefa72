from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Complaint, FundMovement, FundProject, ProjectAsset, Rectification


def _date(label, required=True):
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}))


def _text(label, rows=3, required=True):
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}))


class Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
            f.widget.attrs.setdefault("class", css)


class RegionField(forms.CharField):
    def __init__(self, label=None, **kwargs):
        super().__init__(label=label or _("地区代码"), max_length=12, min_length=6,
                         help_text=_("县 6 位、乡镇 9 位或村 12 位统计用区划代码"), **kwargs)  # fmt: skip


class RectificationForm(Styled):
    problem = _text(_("问题"))
    source = forms.ChoiceField(label=_("问题来源"), choices=Rectification.Source.choices)
    source_ref = forms.CharField(label=_("来源文号"), max_length=200, required=False)
    region_code = RegionField()
    measures = _text(_("整改措施"))
    responsible_unit = forms.CharField(label=_("责任单位"), max_length=100)
    responsible_person = forms.CharField(label=_("责任人"), max_length=50)
    deadline = _date(_("整改时限"))


class ProgressForm(Styled):
    note = _text(_("本月进展"), rows=2)
    percent = forms.IntegerField(label=_("整改进度（%）"), min_value=0, max_value=100)


class CloseForm(Styled):
    evidence = _text(_("销号依据"), rows=2)


class ComplaintForm(Styled):
    channel = forms.ChoiceField(label=_("渠道"), choices=Complaint.Channel.choices)
    kind = forms.ChoiceField(label=_("类型"), choices=Complaint.Kind.choices)
    region_code = RegionField()
    complainant = forms.CharField(label=_("诉求人"), max_length=50, required=False)
    household_no = forms.CharField(label=_("户编号（可选）"), max_length=30, required=False)
    content = _text(_("诉求内容"))
    deadline = _date(_("办理时限（默认按规定天数）"), required=False)


class RouteForm(Styled):
    to_code = RegionField(label=_("转办地区代码"))
    unit = forms.CharField(label=_("承办单位"), max_length=100, required=False)
    deadline = _date(_("办理时限"), required=False)


class CompleteForm(Styled):
    reply = _text(_("办理结果"), rows=2)


class RateForm(Styled):
    satisfaction = forms.TypedChoiceField(
        label=_("满意度"), coerce=int, choices=[(i, str(i)) for i in range(5, 0, -1)]
    )


class ProjectForm(Styled):
    name = forms.CharField(label=_("项目名称"), max_length=200)
    code = forms.CharField(label=_("项目编号"), max_length=40, required=False)
    region_code = RegionField()
    year = forms.IntegerField(label=_("资金年度"), min_value=2021, max_value=2100)
    category = forms.ChoiceField(label=_("项目类别"), choices=FundProject.Category.choices)
    budget = forms.DecimalField(label=_("预算（元）"), min_value=0, max_digits=14, decimal_places=2)
    industry_amount = forms.DecimalField(label=_("其中产业发展资金（元）"), min_value=0, max_digits=14,
                                         decimal_places=2, required=False)  # fmt: skip
    central = forms.DecimalField(label=_("中央资金"), min_value=0, required=False)
    province = forms.DecimalField(label=_("省级资金"), min_value=0, required=False)
    city = forms.DecimalField(label=_("市级资金"), min_value=0, required=False)
    county = forms.DecimalField(label=_("县级资金"), min_value=0, required=False)
    other = forms.DecimalField(label=_("其他资金"), min_value=0, required=False)


class MovementForm(Styled):
    kind = forms.ChoiceField(label=_("类型"), choices=FundMovement.Kind.choices)
    amount = forms.DecimalField(label=_("金额（元，冲减填负数）"), max_digits=14, decimal_places=2)
    date = _date(_("日期"))
    voucher_no = forms.CharField(label=_("凭证号"), max_length=60, required=False)
    note = forms.CharField(label=_("摘要"), max_length=300, required=False)


class ProjectProgressForm(Styled):
    status = forms.ChoiceField(label=_("实施状态"), choices=FundProject.Status.choices)
    completion_percent = forms.IntegerField(label=_("完成进度（%）"), min_value=0, max_value=100)


class AssetForm(Styled):
    name = forms.CharField(label=_("资产名称"), max_length=200)
    asset_type = forms.ChoiceField(label=_("资产类型"), choices=ProjectAsset.Type.choices)
    region_code = RegionField(label=_("所在地区代码"))
    owner = forms.CharField(label=_("所有权人"), max_length=100)
    custodian = forms.CharField(label=_("管护主体"), max_length=100)
    value = forms.DecimalField(label=_("资产价值（元）"), min_value=0, max_digits=14, decimal_places=2)
    formed_on = _date(_("形成日期"))


class IncomeForm(Styled):
    year = forms.IntegerField(label=_("年度"), min_value=2021, max_value=2100)
    amount = forms.DecimalField(label=_("收益（元）"), min_value=0, max_digits=14, decimal_places=2)
    distribution = _text(_("分配（每行“对象: 金额”）"), rows=3)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)
