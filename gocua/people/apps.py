from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "gocua.people"
    label = "people"
