"""
Django's sync helpers in async handlers: what fails, and the async-safe way for each.

These are the claims of docs/migration.md, "Signals, mail and auth helpers in async code". A
sync helper that uses the database raises Django's `SynchronousOnlyOperation` on the event
loop; daf_drf adds a note that names the view and the async-safe way.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import (
    aauthenticate,
    alogin,
    alogout,
    aupdate_session_auth_hash,
    update_session_auth_hash,
)
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.core import mail
from django.core.exceptions import SynchronousOnlyOperation
from django.core.mail import send_mail
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from daf_drf.authentication import SessionAuthentication
from daf_drf.test import AsyncAPIClient
from daf_drf.views import APIView


class Login(APIView):
    authentication_classes: list[Any] = []

    async def post(self, request: Any) -> Response:
        user = await aauthenticate(request, **request.data)
        await alogin(request, user)
        return Response({"username": user.username})


class WhoAmI(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    async def get(self, request: Any) -> Response:
        return Response({"username": (await request.auser()).username})


class Logout(APIView):
    authentication_classes: list[Any] = []

    async def post(self, request: Any) -> Response:
        await alogout(request)
        return Response({"logged_out": True})


class ChangePassword(WhoAmI):
    async def post(self, request: Any) -> Response:
        user = await request.auser()
        user.set_password(request.data["password"])
        await user.asave()
        if request.query_params.get("sync"):
            update_session_auth_hash(request, user)  # the mistake
        else:
            await aupdate_session_auth_hash(request, user)
        return Response({"changed": True})


class SignalLogin(APIView):
    authentication_classes: list[Any] = []

    async def post(self, request: Any) -> Response:
        user = await User.objects.aget(username="ada")
        if request.query_params.get("sync"):
            user_logged_in.send(sender=User, request=request, user=user)  # the mistake
        else:
            await user_logged_in.asend(sender=User, request=request, user=user)
        return Response({"ok": True})


class Notify(APIView):
    authentication_classes: list[Any] = []

    async def post(self, request: Any) -> Response:
        await sync_to_async(send_mail)("Hi", "Body", "from@example.com", ["to@example.com"])
        return Response({"sent": True})


urlpatterns = [
    path("login/", Login.as_view()),
    path("whoami/", WhoAmI.as_view()),
    path("logout/", Logout.as_view()),
    path("password/", ChangePassword.as_view()),
    path("signal/", SignalLogin.as_view()),
    path("notify/", Notify.as_view()),
]


@override_settings(ROOT_URLCONF=__name__)
class AsyncHelperTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        User.objects.create_user("ada", password="old-secret")

    def setUp(self) -> None:
        self.client = AsyncAPIClient()

    async def test_alogin_logs_the_user_in_for_session_authentication(self) -> None:
        login = await self.client.post(
            "/login/", {"username": "ada", "password": "old-secret"}, format="json"
        )
        whoami = await self.client.get("/whoami/")
        assert login.status_code == 200
        assert whoami.json() == {"username": "ada"}
        assert (await User.objects.aget(username="ada")).last_login is not None

    async def test_alogout_ends_the_session(self) -> None:
        await self.client.post(
            "/login/", {"username": "ada", "password": "old-secret"}, format="json"
        )
        logout = await self.client.post("/logout/")
        whoami = await self.client.get("/whoami/")
        assert logout.status_code == 200
        assert whoami.status_code == 403

    async def test_aupdate_session_auth_hash_keeps_the_session_after_a_password_change(
        self,
    ) -> None:
        await self.client.post(
            "/login/", {"username": "ada", "password": "old-secret"}, format="json"
        )
        changed = await self.client.post("/password/", {"password": "new-secret"})
        whoami = await self.client.get("/whoami/")
        assert changed.status_code == 200
        assert whoami.status_code == 200

    async def test_sync_update_session_auth_hash_on_the_loop_raises_with_daf_drfs_hint(
        self,
    ) -> None:
        await self.client.post(
            "/login/", {"username": "ada", "password": "old-secret"}, format="json"
        )
        with pytest.raises(SynchronousOnlyOperation) as raised:
            await self.client.post("/password/?sync=1", {"password": "new-secret"})
        notes = "\n".join(getattr(raised.value, "__notes__", []))
        assert "ChangePassword" in notes
        assert "aupdate_session_auth_hash" in notes
        assert "docs/migration.md" in notes

    async def test_signal_asend_runs_sync_receivers_off_the_loop(self) -> None:
        response = await self.client.post("/signal/")
        assert response.status_code == 200
        # django.contrib.auth's update_last_login receiver wrote.
        assert (await User.objects.aget(username="ada")).last_login is not None

    async def test_signal_send_with_a_writing_receiver_raises_with_daf_drfs_hint(self) -> None:
        with pytest.raises(SynchronousOnlyOperation) as raised:
            await self.client.post("/signal/?sync=1")
        notes = "\n".join(getattr(raised.value, "__notes__", []))
        assert "SignalLogin" in notes
        assert "asend" in notes
        assert (await User.objects.aget(username="ada")).last_login is None

    async def test_send_mail_through_sync_to_async_sends(self) -> None:
        response = await self.client.post("/notify/")
        assert response.status_code == 200
        assert [message.subject for message in mail.outbox] == ["Hi"]
