from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("insights.urls")),
    # Browsers ask for /favicon.ico on every page; without it each page logs a 404.
    # Lazy: the hashed name exists only once collectstatic has run.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico"), permanent=True)),
    path("", include("reports.urls")),
    path("", RedirectView.as_view(pattern_name="reports:dashboard", permanent=False)),
]
