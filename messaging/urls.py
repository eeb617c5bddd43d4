from django.urls import path

from messaging import views

app_name = "email"

urlpatterns = [
    path("o/<str:token>/", views.email_open, name="open"),
    path("c/<str:token>/", views.email_click, name="click"),
    path("unsubscribe/<str:token>/", views.email_unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", views.email_preferences, name="preferences"),
]
