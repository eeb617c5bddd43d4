"""`/health/`: whether this web process can reach its database, for load balancers,
process managers and scripts that wait for the server to come up."""

from django.db import connection
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return JsonResponse({"status": "unavailable", "database": str(error).strip()}, status=503)
    return JsonResponse({"status": "ok"})
