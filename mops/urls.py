from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from mops.health import health

admin.site.site_header = "MOps back-office"
admin.site.site_title = "MOps back-office"
admin.site.index_title = "Marketing operations"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="reporting:home", permanent=False)),
    path("favicon.ico", RedirectView.as_view(url=static("mops/favicon.svg"), permanent=True)),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("", include("reporting.urls")),
    path("email/", include("messaging.urls")),
    path("api/v1/", include("contacts.api.urls")),
    path("api/v1/", include("intents.api.urls")),
    path("api/v1/", include("segments.api.urls")),
    path("api/v1/", include("messaging.api.urls")),
    path("api/v1/", include("privacy.api.urls")),
    path("api/v1/", include("campaigns.api.urls")),
    path("api/v1/", include("reporting.api.urls")),
    path("hooks/", include("messaging.hooks_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
