from __future__ import annotations

from pathlib import Path

from django import forms

from .models import ImportBatch

ALLOWED_SUFFIXES = {".csv", ".xlsx", ".xlsm", ".xls"}


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="数据类型", choices=ImportBatch.Kind.choices)
    file = forms.FileField(label="文件（xlsx / xls / csv）")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError("只支持 xlsx、xls、csv 文件")
        return upload
