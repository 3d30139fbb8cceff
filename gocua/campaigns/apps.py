from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "gocua.campaigns"
    label = "campaigns"
