"""The intents every installation starts with. Teams edit them and add their own in the admin.

The six needs are the motives behind search behaviour (surprise, help, reassure, educate,
thrill, impress); the buying-journey intents say where a person stands with us. Half-lives
say how long a signal stays telling: a wish to be thrilled fades in days, a running
comparison of vendors in weeks.
"""

NEEDS = "need"
JOURNEY = "journey"

DEFAULT_INTENTS = [
    # key, name, group, half-life in hours, description
    ("surprise_me", "Surprise me", NEEDS, 72, "Looks for something new, unexpected or entertaining."),
    ("help_me", "Help me", NEEDS, 48, "Wants a task done or a problem solved now: how-to, fixes, services."),
    (
        "reassure_me",
        "Reassure me",
        NEEDS,
        168,
        "Seeks confidence before deciding: reviews, guarantees, safety.",
    ),
    (
        "educate_me",
        "Educate me",
        NEEDS,
        336,
        "Wants to understand a topic in depth: guides, research, courses.",
    ),
    (
        "thrill_me",
        "Thrill me",
        NEEDS,
        48,
        "Seeks excitement and strong experiences: events, launches, offers.",
    ),
    (
        "impress_me",
        "Impress me",
        NEEDS,
        168,
        "Wants status and to be seen: premium, exclusive, show-off worthy.",
    ),
    (
        "research",
        "Research",
        JOURNEY,
        336,
        "Explores the problem and possible solutions, no vendor chosen yet.",
    ),
    ("compare", "Compare", JOURNEY, 240, "Weighs options: pricing, plans, alternatives, competitor names."),
    ("purchase", "Purchase", JOURNEY, 120, "Ready to buy: asks for a quote, a demo, a trial or checks out."),
    ("support", "Support", JOURNEY, 72, "A customer who needs help with the product."),
    (
        "churn_risk",
        "Churn risk",
        JOURNEY,
        336,
        "Signs of leaving: cancellation, downgrade, complaints, exports.",
    ),
]


def default_intents_ensure(Intent) -> None:
    """Create the default intents that are missing; leaves edited ones alone. Takes the model
    class so that migrations can pass their historical one."""
    existing = set(Intent.objects.values_list("key", flat=True))
    Intent.objects.bulk_create(
        [
            Intent(key=key, name=name, group=group, half_life_hours=hours, description=description)
            for key, name, group, hours, description in DEFAULT_INTENTS
            if key not in existing
        ]
    )
