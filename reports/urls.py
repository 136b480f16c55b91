from django.urls import path

from . import views
from .registry import REPORTS

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/freshness/", views.dashboard_freshness, name="freshness"),
    path("dashboard/csv/<slug:name>.csv", views.report_csv, name="csv"),
    # The original FastAPI service's endpoints and field names: its clients keep working.
    *(
        path(f"api/{name}/", views.api_report, {"name": name}, name=f"api-{name}")
        for name in REPORTS
    ),
]
