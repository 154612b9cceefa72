from django.contrib import admin

from .models import Grid, MonitoringLine, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


admin.site.register(Grid)
admin.site.register(MonitoringLine)
