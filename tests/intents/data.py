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


# Chat messages of two needs no intent covers yet, and a few unrelated one-offs.
CHAT = {
    "double_charge": [
        "i was charged twice for order {n}",
        "you billed my card two times for the same order",
        "there is a double charge on my credit card statement",
        "why did you take the payment twice this month",
        "my card was debited twice, please refund one",
        "charged two times for one subscription, refund please",
        "the same payment went through twice on my card",
        "i see two identical charges from you on my bank account",
        "you took my money twice for a single purchase",
        "duplicate charge on my card, i only ordered once",
        "my bank shows you charged me twice yesterday",
        "please reverse the second charge, i paid twice",
    ],
    "invoice_address": [
        "how do i change the billing address on my invoice",
        "the company address on our invoices is wrong",
        "please update the address printed on the invoice",
        "can you put our new office address on the invoices",
        "our invoice shows the old billing address",
        "change the invoice address to our {c} office",
        "the invoice needs our registered company address",
        "we moved, the address on the invoice must change",
        "where can i edit the address that appears on invoices",
        "invoices still go out with last year's address",
        "our accountant needs the invoice reissued with the right address",
        "fix the street name on our invoice address please",
    ],
}
ONE_OFFS = [
    "do you have a booth at the trade fair",
    "what colour is your logo",
    "is anyone there",
    "lol",
    "who is your ceo",
    "thanks for the webinar yesterday",
]


def chat_texts(kind: str, count: int, seed: int = 3) -> list[str]:
    rng = random.Random(f"{kind}-{seed}")
    phrasings = CHAT[kind]
    return [_fill(phrasings[i % len(phrasings)], rng) for i in range(count)]
