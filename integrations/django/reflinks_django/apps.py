from django.apps import AppConfig


class ReflinksConfig(AppConfig):
    name = "reflinks_django"
    verbose_name = "reflinks"
