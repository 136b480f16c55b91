"""Keep the data version in step with writes made through the ORM (the admin, repairs, services).

The loader writes with set-based SQL, so it moves the version itself (orders.services.import_runs).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from .models import Order

# Sent once a load that inserted or updated orders has committed, with run_id. Other apps
# (insights) act on fresh data without the loader knowing them; sent robustly, so a
# receiver's failure never turns a committed load into a failed one.
import_run_loaded = Signal()


@receiver(post_save, sender=Order, dispatch_uid="orders_data_version_on_save")
@receiver(post_delete, sender=Order, dispatch_uid="orders_data_version_on_delete")
def order_written(sender, **kwargs):
    from .services.import_runs import data_version_bump

    data_version_bump()
