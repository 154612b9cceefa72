from django.urls import path

from . import views

app_name = "ingest"
urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/report.xlsx", views.batch_report, name="batch_report"),
    path("batches/<int:pk>/feedback.xlsx", views.batch_feedback, name="batch_feedback"),
    path("review/", views.review_list, name="review_list"),
    path("review/<int:pk>/", views.review_decide, name="review_decide"),
]
