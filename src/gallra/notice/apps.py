from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticeConfig(AppConfig):
    name = "gallra.notice"
    verbose_name = _("privacy notice and record of processing")
