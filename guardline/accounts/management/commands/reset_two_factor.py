"""guardline reset_two_factor USERNAME — remove a user's authenticator (lost phone); they enrol again at next
sign-in. Logged in the change log."""

from django.core.management.base import BaseCommand, CommandError

from guardline.accounts.models import User
from guardline.accounts.services import totp_device_reset


class Command(BaseCommand):
    help = "Remove a user's two-factor authenticator so that they enrol a new one at their next sign-in."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户不存在: {username}")
        totp_device_reset(actor=None, user=user)
        self.stdout.write(f"{username}: 身份验证器已移除，下次登录时重新绑定。")
