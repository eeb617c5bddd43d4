from ledger.context import Actor, acting_as


class ActorMiddleware:
    """A person signed in to the browser acts by hand: their effects are manual."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        with acting_as(Actor.for_user(user)):
            return self.get_response(request)
