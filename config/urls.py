from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from guardline.api.api import api
from guardline.cases.urls import public_urlpatterns as declare_urls

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="registry:household_list", permanent=False)),
    path("accounts/", include("guardline.accounts.urls")),
    path("households/", include("guardline.registry.urls")),
    path("regions/", include("guardline.regions.urls")),
    path("imports/", include("guardline.ingest.urls")),
    path("warnings/", include("guardline.screening.urls")),
    path("cases/", include("guardline.cases.urls")),
    path("assistance/", include("guardline.assistance.urls")),
    path("reports/", include("guardline.reports.urls")),
    path("quality/", include("guardline.quality.urls")),
    path("oversight/", include("guardline.oversight.urls")),
    path("ledger/", include("guardline.ledger.urls")),
    path("dashboards/", include("guardline.dashboards.urls")),
    path("declare/", include((declare_urls, "declare"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
