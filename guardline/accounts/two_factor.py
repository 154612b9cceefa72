"""Time-based one-time passwords (RFC 6238, django-otp's TOTP devices) as the second sign-in factor."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User


def needs_two_factor(user: User) -> bool:
    return user.is_superuser or user.role in settings.GUARDLINE.get("TWO_FACTOR_ROLES", ())


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image library, no external service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg  # inlined in HTML: no XML declaration
