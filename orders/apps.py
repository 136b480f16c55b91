from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders and ingestion"

    def ready(self):
        from . import signals  # noqa: F401
