from urllib.parse import quote

from django.db import connections


def database_url(alias: str = "default") -> str:
    """The URL of a configured database, for a separate process (a worker, a server) that
    must reach the very same database, test databases included."""
    db = connections[alias].settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if user else ""
    name = quote(db["NAME"], safe="")
    if db.get("HOST"):
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgresql://{credentials}{db['HOST']}{port}/{name}"
    socket_dir = db.get("OPTIONS", {}).get("host", "")
    return f"postgresql://{credentials}/{name}?host={quote(socket_dir, safe='/')}"
