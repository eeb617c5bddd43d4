import contextvars

from ledger.context import Actor, set_actor


class ActorMiddleware:
    """Each request runs in a context of its own, so an actor set during it (a signed-in
    person here, an API key's integration later in the view) ends with it and never
    leaks into the next request served by the same thread.

    A person signed in to the browser acts by hand: their effects are manual.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return contextvars.copy_context().run(self._handle, request)

    def _handle(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            set_actor(Actor.for_user(user))
        return self.get_response(request)
