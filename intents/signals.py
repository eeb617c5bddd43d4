"""Events the apps above intents react to (segments re-form, campaigns fire their
"intent detected" trigger). Intents announces; it knows nothing of its listeners."""

from django.dispatch import Signal

# Sent after the recognition's commit; kwargs: detections (list of dicts with contact_id,
# intent (its key), confidence, touchpoint_id), one per touchpoint that showed an intent.
intents_detected = Signal()
