from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "civicloop.api"
    label = "api"
