from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from ledger.api_keys import api_key_authenticate
from ledger.context import Actor, set_actor
from ledger.models import ApiKey

# What an integration's key may reach: the marketing data, never users or settings.
API_APPS = ("contacts", "intents", "segments", "messaging", "routing", "campaigns", "reporting", "ledger")


class IntegrationPrincipal:
    """Stands in for request.user when an integration calls with its key. Permissions come
    from the key's scopes: read grants view_*, write grants add_/change_/delete_*."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.integration = api_key.integration

    def __str__(self) -> str:
        return f"integration {self.integration.name}"

    def get_username(self) -> str:
        return f"integration:{self.integration.name}"

    def has_perm(self, perm: str, obj=None) -> bool:
        app_label, _, codename = perm.partition(".")
        if app_label not in API_APPS:
            return False
        action = codename.split("_", 1)[0]
        needed = ApiKey.READ if action == "view" else ApiKey.WRITE
        return needed in self.api_key.scopes

    def has_perms(self, perms, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perms)

    def has_module_perms(self, app_label: str) -> bool:
        return app_label in API_APPS


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>`. What the integration then does is algorithmic."""

    keyword = b"bearer"

    def authenticate(self, request):
        try:
            parts = get_authorization_header(request).split()
        except UnicodeError as error:
            raise AuthenticationFailed(
                "the Authorization header has characters an API key never has"
            ) from error
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("expected the header `Authorization: Bearer <key>`")
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise AuthenticationFailed("the API key contains characters an API key never has") from error
        api_key = api_key_authenticate(raw_key)
        if api_key is None:
            raise AuthenticationFailed("unknown or revoked API key")
        set_actor(Actor.for_integration(integration_id=api_key.integration_id, name=api_key.integration.name))
        return IntegrationPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "an API key from create_api_key or the admin",
        }
