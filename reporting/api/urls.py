from django.urls import path

from reporting.api.views import AutomateNextView, AutomationRatioView

urlpatterns = [
    path("reports/automation-ratio/", AutomationRatioView.as_view(), name="api-automation-ratio"),
    path("reports/automate-next/", AutomateNextView.as_view(), name="api-automate-next"),
]
