from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("insights/", views.insights_page, name="page"),
    path("insights/regenerate/", views.insights_regenerate, name="regenerate"),
    path("api/quick-insights/", views.quick_insights_api, name="api"),
]
