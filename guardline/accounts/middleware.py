"""Two-factor sign-in: users whose role needs it reach nothing but the second-factor pages until they have
confirmed a one-time code in this session."""

from __future__ import annotations

import time

from django.conf import settings
from django.shortcuts import redirect

from .two_factor import needs_two_factor

# Paths reachable before the second factor: signing in and out, the second-factor pages, static files, language
# switching, and the token-authenticated API (machine clients, no session).
_OPEN_PREFIXES = ("/accounts/login/", "/accounts/logout/", "/accounts/2fa/", "/static/", "/i18n/", "/api/")


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.GUARDLINE.get("TWO_FACTOR")
            and user is not None
            and user.is_authenticated
            and needs_two_factor(user)
            and not user.is_verified()
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            return redirect(f"/accounts/2fa/?next={request.get_full_path()}")
        return self.get_response(request)


class SessionIdleMiddleware:
    """Idle sessions expire after SESSION_COOKIE_AGE (30 minutes): every request of a signed-in user pushes the
    expiry on, but the session row is rewritten at most once per GUARDLINE_SESSION_REFRESH_SECONDS (60) — saving it
    on every request (SESSION_SAVE_EVERY_REQUEST) made each page view a database write, which under load queues
    behind imports on SQLite's single writer. The idle limit is thereby exact to within that minute."""

    KEY = "_refreshed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated and not session.modified:
            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= settings.GUARDLINE_SESSION_REFRESH_SECONDS:
                # marks the session modified: SessionMiddleware saves it and the expiry is renewed
                session[self.KEY] = now
        return response
