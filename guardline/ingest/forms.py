from __future__ import annotations

from pathlib import Path

from django import forms

from .models import ImportBatch

ALLOWED_SUFFIXES = {".csv", ".xlsx", ".xlsm", ".xls"}


def upload_kinds(user) -> list[tuple[str, str]]:
    """What a user may upload: registry staff everything; a department officer only their department's feeds."""
    from engine.ingest import SPECS
    from engine.ingest.feeds import DEPARTMENT_FEEDS, FEED_KEYS
    from guardline.accounts.roles import Perm, has_perm

    feeds = [(k, f"{SPECS[k].title_zh}（{SPECS[k].department}）") for k in FEED_KEYS]
    if has_perm(user, Perm.IMPORT_REGISTRY):
        return [
            (ImportBatch.Kind.REGISTRY.value, "户籍台账"),
            (ImportBatch.Kind.INCOME.value, "收入与三保障"),
            *feeds,
        ]
    if has_perm(user, Perm.UPLOAD_FEEDS):
        own = DEPARTMENT_FEEDS.get(user.department, ())
        return [(k, label) for k, label in feeds if k in own]
    return []


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="数据类型", choices=())
    file = forms.FileField(label="文件（xlsx / xls / csv）")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = upload_kinds(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError("只支持 xlsx、xls、csv 文件")
        return upload
