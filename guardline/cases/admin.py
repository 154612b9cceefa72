from django.contrib import admin

from .models import Holiday


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """The holiday calendar is also editable on the 节假日 page (county administrators, province)."""

    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
