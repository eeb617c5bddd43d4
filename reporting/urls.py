from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("home/", views.HomeView.as_view(), name="home"),
    path("reports/automation/", views.AutomationReportView.as_view(), name="automation"),
    path("reports/automation/actions/", views.ActionListView.as_view(), name="actions"),
    path("contacts/<int:pk>/", views.ContactView.as_view(), name="contact"),
    path("reports/how-we-count/", views.HowWeCountView.as_view(), name="how-we-count"),
]
