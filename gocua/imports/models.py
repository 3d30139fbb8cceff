from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One import of one file: who, what, its progress, its counts and what became of it.

    A web import is queued (the file kept in the shared storage until it ends) and run by the
    worker; a command-line import runs in its process. Both appear in the same job list. The
    counts and `resume_line` are saved in each chunk's transaction, so a job whose worker was
    killed resumes after its last committed chunk and ends with the counts of one clean run."""

    class Kind(models.TextChoices):
        CITIZENS = "citizens", _("Danh sách dân cư")
        STAGES = "stages", _("Trạng thái VNeID")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Đang chờ")
        RUNNING = "running", _("Đang chạy")
        DONE = "done", _("Xong")
        FAILED = "failed", _("Lỗi")
        CANCELLED = "cancelled", _("Đã dừng")
        DRY_RUN = "dry_run", _("Chạy thử")

    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED, Status.DRY_RUN)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, blank=True)
    sheet = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    edition = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    inserted = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    stale = models.PositiveIntegerField(default=0)
    rejects_file = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    # A web import: where its file waits in the shared storage (deleted when the job ends).
    upload = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    # How far through the file (0..1), saved with each chunk; the last line of the last chunk
    # committed (a resumed job skips what lies before it).
    progress = models.FloatField(default=0)
    resume_line = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True)  # about the file (which sheet was read)
    header = models.JSONField(default=list, blank=True)  # the file's header row (rejects CSV)
    # The first warnings, national IDs and phones masked (all of them are counted).
    warning_samples = models.JSONField(default=list, blank=True)
    # The language of who started a web import: the worker words the rejects and warnings in it.
    language = models.CharField(max_length=8, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"], name="importjob_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED


class ImportReject(models.Model):
    """A row an import refused: its line, the field at fault and why, and its cells as read.
    Written in the transaction of the row's chunk (a dry run's after it), so a resumed or
    repeated job never lists a row twice; the rejects CSV is made from these rows."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="reject_rows")
    line = models.PositiveIntegerField()
    field = models.CharField(max_length=32)
    reason = models.TextField()
    cells = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "line"], name="importreject_job_line")
        ]

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}"
