from django.contrib import admin
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "MOps back-office"
admin.site.site_title = "MOps back-office"
admin.site.index_title = "Marketing operations"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("favicon.ico", RedirectView.as_view(url=static("mops/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
]
