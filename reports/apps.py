from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from . import signals  # noqa: F401  (connects the packing and the cache warm-up after a load)
