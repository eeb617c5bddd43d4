import pytest
from rest_framework.test import APIClient

from ledger.api_keys import api_key_create, api_key_revoke


def _client_with(scopes, *, revoked=False, name="Webinar tool"):
    api_key, raw_key = api_key_create(integration_name=name, scopes=scopes)
    if revoked:
        api_key_revoke(api_key=api_key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.api_key = api_key
    return client


@pytest.fixture
def writer(db):
    return _client_with(["read", "write"])


@pytest.fixture
def reader(db):
    return _client_with(["read"], name="BI dashboard")


@pytest.fixture
def revoked(db):
    return _client_with(["read", "write"], revoked=True)


@pytest.fixture
def writer_key(db):
    _, raw_key = api_key_create(integration_name="Fuzzer", scopes=["read", "write"])
    return raw_key
