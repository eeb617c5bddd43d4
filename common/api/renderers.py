from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    """Lets a client ask for text/csv; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data
