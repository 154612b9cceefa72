"""Second sign-in factor: set up an authenticator app once, then confirm a code at every sign-in."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from . import services
from .two_factor import confirmed_device, qr_svg


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return "/"
    return target


@login_required
def two_factor(request):
    user = request.user
    device = confirmed_device(user)
    enrolling = device is None
    if enrolling:
        device = services.totp_device_pending(user=user)
    error = ""
    if request.method == "POST":
        token = "".join(ch for ch in request.POST.get("token", "") if ch.isdigit())
        if enrolling:
            ok = services.totp_device_confirm(user=user, device=device, token=token)
        else:
            ok = device.verify_token(token)  # django-otp throttles repeated failures itself
        if ok:
            otp_login(request, device)
            return redirect(_next_url(request))
        error = _("动态验证码不正确或已过期，请重新输入。")
    context = {"enrolling": enrolling, "error": error, "next": _next_url(request)}
    if enrolling:
        context |= {"qr": qr_svg(device), "secret": device.config_url.split("secret=")[1].split("&")[0]}
    return render(request, "accounts/two_factor.html", context)


def locked_out(request, credentials, *args, **kwargs):
    """django-axes calls this for a sign-in attempt while the user name and address are locked out."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    advice = _("请 %(minutes)d 分钟后再试；如忘记密码，请联系县级管理员重置。") % {"minutes": minutes}
    return render(request, "accounts/locked_out.html", {"advice": advice}, status=429)
