from django.contrib import admin

from .models import Household, HouseholdYear, Member


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = (
        "household_no",
        "head_name",
        "village_code",
        "household_type",
        "monitor_category",
        "member_count",
    )
    search_fields = ("household_no",)
    list_filter = ("household_type", "monitor_category")


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("name", "household", "relation", "sex", "birth_date", "is_active")
    raw_id_fields = ("household",)


@admin.register(HouseholdYear)
class HouseholdYearAdmin(admin.ModelAdmin):
    list_display = ("household", "year", "snapshot_kind", "per_capita_net_income")
    raw_id_fields = ("household",)
