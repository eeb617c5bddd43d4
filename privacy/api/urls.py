from django.urls import path

from privacy.api.views import ContactEraseView, ContactExportView

urlpatterns = [
    path("contacts/<int:pk>/export/", ContactExportView.as_view(), name="contact-personal-export"),
    path("contacts/<int:pk>/erase/", ContactEraseView.as_view(), name="contact-erase"),
]
