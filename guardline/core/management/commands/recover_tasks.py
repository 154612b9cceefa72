"""`guardline recover_tasks`: queue again the background tasks left running by workers that died (every
`guardline db_worker` also does this when it starts and with every heartbeat)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from guardline.core.worker_services import tasks_recover


class Command(BaseCommand):
    help = (
        "Queue again the tasks left running by dead workers; give up those that lost their worker too often"
    )

    def handle(self, *args, **options):
        result = tasks_recover()
        self.stdout.write(f"{len(result.requeued)} queued again, {len(result.failed)} given up")
