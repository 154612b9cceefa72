"""`guardline db_worker`: django-tasks' database worker, plus a heartbeat and the recovery of tasks whose worker
died (guardline/core/worker_services.py). Takes the same options as django_tasks_db's command it extends."""

from __future__ import annotations

import os
import threading

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from guardline.core import worker_services
from guardline.core.locks import sqlite_libraries


def _heartbeat(worker_id: str, stop: threading.Event) -> None:
    """Runs in a thread of the worker: refresh the heartbeat, and recover tasks of workers that died meanwhile."""
    while not stop.wait(worker_services.heartbeat_seconds()):
        # Not while the task in the main thread reads the SQLite file through ADBC (core.locks.sqlite_libraries):
        # a beat waits for the end of such a read, and its connection is closed before the read may start.
        with sqlite_libraries.exclusive():
            try:
                worker_services.worker_beat(worker_id)
                worker_services.tasks_recover()
            except Exception:  # a locked or briefly unreachable database: try again at the next beat
                worker_services.logger.exception("Worker heartbeat failed")
            finally:
                connections.close_all()  # this thread's connections only


class Command(DatabaseWorkerCommand):
    help = (
        "Run a database background worker; at start and with every heartbeat, tasks left running by a dead worker "
        "are queued again"
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Every queue unless told otherwise (django_tasks_db's default is "default" alone): one worker started
        # without options runs everything, the live path's queue included (settings.TASK_QUEUES).
        parser.set_defaults(queue_name="*")

    def handle(self, *args, **options):
        # django_tasks_db ignores --reload with --batch
        reloading = options.get("reload") and not options.get("batch")
        if reloading and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, **options)  # the reloader's parent only watches files
        worker_id = options["worker_id"]
        self.configure_logging(options["verbosity"])
        worker_services.worker_register(worker_id)
        recovered = worker_services.tasks_recover()
        if recovered.requeued or recovered.failed:
            self.stdout.write(
                f"Recovered tasks of dead workers: {len(recovered.requeued)} queued again, "
                f"{len(recovered.failed)} given up"
            )
        worker_services.heartbeat_stale_delete()
        stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(worker_id, stop), name="heartbeat", daemon=True)
        beat.start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
            beat.join(timeout=5)
            worker_services.worker_unregister(worker_id)
