from django.db import models


class WorkerBeat(models.Model):
    """A running `gocua worker`, as it last said it was alive. A task claimed by a worker
    that stopped beating (killed, its machine lost) goes back to the queue."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.host} ({self.pid})"


class Schedule(models.Model):
    """When a periodic job (gocua.worker.schedule) is next due. Whichever worker finds it due
    first enqueues it and moves `next_at` on, in one transaction: it runs once, however many
    workers there are."""

    name = models.CharField(max_length=64, primary_key=True)
    next_at = models.DateTimeField()
    last_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_at:%Y-%m-%d %H:%M}"
