"""Create the demo's rooms, their access rules, its users and (optionally) the gateway row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand

from apigw_ws.contrib.django.models import ApiGateway, ChannelPermission
from chat.models import Room

ROOMS = [
    ("lobby", "Lobby", ChannelPermission.Access.AUTHENTICATED),
    ("random", "Random", ChannelPermission.Access.AUTHENTICATED),
    ("staff", "Staff only", ChannelPermission.Access.STAFF),
]
# (username, password, staff, superuser): demo is the admin, alice and bob are users.
USERS = [
    ("demo", "demo", True, True),
    ("alice", "alice", False, False),
    ("bob", "bob", False, False),
]


class Command(BaseCommand):
    help = "Create the chat demo's rooms, access rules and users (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--gateway-target",
            metavar="URL",
            help="Also create or update the ApiGateway row 'local' posting to URL "
            "(e.g. http://127.0.0.1:8000/ws/).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for position, (slug, title, access) in enumerate(ROOMS):
            Room.objects.update_or_create(
                slug=slug, defaults={"title": title, "position": position}
            )
            ChannelPermission.objects.update_or_create(
                channel_name=slug, defaults={"access": access, "description": f"chat room {title}"}
            )
        User = get_user_model()
        broadcast = Permission.objects.get(codename="broadcast", content_type__app_label="chat")
        for username, password, staff, superuser in USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
            user.is_staff, user.is_superuser = staff, superuser
            user.save()
            if staff:
                user.user_permissions.add(broadcast)
        if options["gateway_target"]:
            ApiGateway.objects.update_or_create(
                api_name="local",
                defaults={
                    "api_id": "local",
                    "stage_name": "local",
                    "target_base_endpoint": options["gateway_target"],
                },
            )
        self.stdout.write(
            f"rooms: {', '.join(slug for slug, _, _ in ROOMS)}; "
            f"users: {', '.join(f'{u}/{p}' for u, p, _, _ in USERS)}"
        )
