"""Events other apps react to. Contacts sits low in the dependency order: it announces,
the apps above it (intents, segments, campaigns) listen."""

from django.dispatch import Signal

# Sent in a worker after new touchpoints were committed; kwargs: touchpoint_ids (list[int]).
touchpoints_captured = Signal()
