from tests.messaging.conftest import local_server  # noqa: F401 - a fixture erasure's webhook tests share
