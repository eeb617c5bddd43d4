"""Events other apps react to. Contacts sits low in the dependency order: it announces,
the apps above it (intents, segments, campaigns) listen."""

from django.dispatch import Signal

# Sent in a worker after new touchpoints were committed; kwargs: touchpoint_ids (list[int]).
touchpoints_captured = Signal()

# Sent in a worker after contacts changed; kwargs: contact_ids (list[int]) and fields (list[str],
# the condition paths that changed: "country", "account.name", "tags", "consent.email", ...;
# "account" or "attributes" for any of theirs, "*" for a new contact).
contacts_changed = Signal()
