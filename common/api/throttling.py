from rest_framework.throttling import SimpleRateThrottle


class PerKeyThrottle(SimpleRateThrottle):
    """A rate per API key (or per signed-in user), so one runaway integration cannot
    starve the others."""

    scope = "per_key"

    def get_cache_key(self, request, view):
        api_key = getattr(request, "auth", None)
        if api_key is not None and hasattr(api_key, "key_hash"):
            ident = f"key-{api_key.pk}"
        elif request.user and request.user.is_authenticated and request.user.pk:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
