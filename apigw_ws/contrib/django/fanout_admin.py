"""The admin of background fan-outs: read-only, progress at a glance, chunks inline.

Fan-outs are written by ``send_message(..., background=True)`` and their workers only;
``manage.py ws_fanouts`` resumes and cancels them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import FanOut, FanOutChunk


class ReadOnly:
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class FanOutChunkInline(ReadOnly, admin.TabularInline):
    model = FanOutChunk
    fields = [
        "number",
        "status",
        "size",
        "last_session_id",
        "sent",
        "gone",
        "failed",
        "attempts",
        "lease_owner",
        "lease_expires_at",
        "checkpointed_at",
    ]
    readonly_fields = fields
    extra = 0
    show_change_link = False


@admin.register(FanOut)
class FanOutAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "created_at",
        "recipients",
        "sent",
        "gone",
        "failed",
        "chunks_done",
        "message_id",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["message_id"]
    ordering = ["-created_at"]
    fields = [
        "status",
        "message_id",
        "payload",
        "recipients",
        "chunk_size",
        "task_backend",
        "created_at",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields
    inlines = [FanOutChunkInline]

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).with_progress()

    @admin.display(description="sent", ordering="total_sent")
    def sent(self, obj: FanOut) -> int:
        return obj.total_sent

    @admin.display(description="gone", ordering="total_gone")
    def gone(self, obj: FanOut) -> int:
        return obj.total_gone

    @admin.display(description="failed", ordering="total_failed")
    def failed(self, obj: FanOut) -> int:
        return obj.total_failed

    @admin.display(description="chunks done")
    def chunks_done(self, obj: FanOut) -> str:
        return f"{obj.chunks_done}/{obj.chunk_count}"
