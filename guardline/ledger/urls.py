from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("", views.ledger_index, name="index"),
    path("audit-export/", views.audit_export, name="audit_export"),
]
