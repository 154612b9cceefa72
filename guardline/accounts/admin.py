from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import RegionScope, User


class ScopeInline(admin.TabularInline):
    model = RegionScope
    raw_id_fields = ("region",)
    extra = 0


@admin.register(User)
class GuardlineUserAdmin(UserAdmin):
    list_display = ("username", "full_name", "role", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Guardline", {"fields": ("role", "full_name", "department", "phone")}),
    )
    inlines = [ScopeInline]
