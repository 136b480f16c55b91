from django.core.management.base import BaseCommand

from reports.services import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the reports' rollup tables from the orders (the triggers keep them exact otherwise)."

    def handle(self, *args, **options):
        rollups_rebuild()
        self.stdout.write("rollups rebuilt from the orders")
