from django.urls import include, path

from messaging import hooks as views

app_name = "hooks"

urlpatterns = [
    path("email/feedback/", views.bounces_webhook, name="email-feedback"),
    path("sms/inbound/", views.sms_inbound_twilio, name="sms-inbound"),
    # An ESP's own tracking webhooks, e.g. /hooks/anymail/postmark/tracking/ (django-anymail).
    path("anymail/", include("anymail.urls")),
]
