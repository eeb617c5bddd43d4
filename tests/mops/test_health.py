def test_health_says_ok_when_the_database_answers(client, db):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_says_unavailable_when_the_database_does_not(client, db, monkeypatch):
    from django.db.utils import OperationalError

    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("mops.health.connection", Unreachable())

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "connection refused"}


def test_health_answers_only_reads(client, db):
    assert client.post("/health/").status_code == 405
