"""A small labelled data set, generated from phrasings per intent, the same on every run."""

import csv
import random
from pathlib import Path

FILL = {
    "x": ["hubspot", "marketo", "salesforce", "pardot", "mailchimp", "brevo", "klaviyo"],
    "n": ["5", "10", "25", "50", "100", "a few"],
    "p": ["dashboard", "report", "export", "import", "segment", "campaign", "webhook", "login"],
    "c": ["paris", "berlin", "lisbon", "oslo", "tokyo", "lima"],
}
PHRASINGS = {
    "compare": [
        "how does your pricing compare to {x}",
        "is {x} cheaper than your plans",
        "what is the difference between you and {x}",
        "{x} versus your product which one is better",
        "comparison of your plans with {x}",
        "why should we pick you over {x}",
    ],
    "purchase": [
        "i want to buy {n} licenses",
        "please send me a quote for {n} seats",
        "how do i pay for {n} users",
        "we are ready to sign the contract for {n} seats",
        "can we order {n} more licenses today",
        "book a demo so we can purchase",
    ],
    "support": [
        "the {p} is broken since this morning",
        "i get an error when i open the {p}",
        "the {p} page does not load",
        "help the {p} crashed again",
        "bug in the {p} nothing works",
        "why is the {p} so slow and failing",
    ],
    "churn_risk": [
        "how do i cancel my subscription",
        "we are moving to {x} next month",
        "please close our account",
        "we want to downgrade and stop paying",
        "not renewing we switch to {x}",
        "terminate the contract at the end of the term",
    ],
}
OUT_OF_SCOPE = [
    "what is the weather in {c} tomorrow",
    "recommend a restaurant in {c}",
    "how tall is the eiffel tower",
    "play some jazz music",
    "what time is it in {c}",
    "tell me a joke about cats",
    "how many calories in a banana",
    "flights from {c} to {c}",
]


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for key, values in FILL.items():
        while "{" + key + "}" in out:
            out = out.replace("{" + key + "}", rng.choice(values), 1)
    return out


def labelled_rows(per_intent: int = 30, oos: int = 20, seed: int = 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = [
        (_fill(rng.choice(phrasings), rng), intent)
        for intent, phrasings in PHRASINGS.items()
        for _ in range(per_intent)
    ]
    rows += [(_fill(rng.choice(OUT_OF_SCOPE), rng), "oos") for _ in range(oos)]
    rng.shuffle(rows)
    return rows


def write_csv(path: Path, rows) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path
