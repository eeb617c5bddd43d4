"""Demo data that looks like a real MOps team's quarter: accounts in several countries
and industries, contacts with a mix of consent, and 90 days of touchpoints with the
patterns marketers know (webinar registrations that turn into attendance, e-mail opens
that turn into clicks, pricing visits before a demo request), plus the ledger of who
did all that: mostly software, some people by hand.

Everything is written with COPY, so a large demo (or a benchmark's million contacts)
loads in seconds. Runs are deterministic for a given seed.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from faker import Faker

from common.copy import copy_rows, reserve_ids
from contacts.models import Account, ConsentChange, Contact, ContactTag, Tag, Touchpoint
from demo.intents import demo_history_replay, demo_intent_rules_create
from ledger.models import Action
from mops.roles import ADMIN, MARKETER, VIEWER, roles_sync

DEMO_PASSWORD = "mops-demo"  # noqa: S105 - printed to the person who started the demo
DEMO_USERS = [
    # username, first name, role, superuser
    ("admin", "Ada", ADMIN, True),
    ("marketer", "Maya", MARKETER, False),
    ("viewer", "Victor", VIEWER, False),
    ("alice.sales", "Alice", VIEWER, False),
    ("bob.sales", "Bob", VIEWER, False),
]

COUNTRIES = {
    # code: (weight, faker locale, cities, time zone, phone prefix)
    "FR": (18, "fr_FR", ["Paris", "Lyon", "Lille", "Nantes", "Bordeaux"], "Europe/Paris", "+336"),
    "DE": (16, "de_DE", ["Berlin", "Munich", "Hamburg", "Cologne"], "Europe/Berlin", "+49151"),
    "GB": (14, "en_GB", ["London", "Manchester", "Bristol", "Leeds"], "Europe/London", "+447700"),
    "US": (
        22,
        "en_US",
        ["New York", "Austin", "Chicago", "San Francisco", "Boston"],
        "America/New_York",
        "+1212555",
    ),
    "BE": (6, "nl_BE", ["Brussels", "Antwerp", "Ghent"], "Europe/Brussels", "+32470"),
    "NL": (8, "nl_NL", ["Amsterdam", "Rotterdam", "Utrecht"], "Europe/Amsterdam", "+316"),
    "ES": (8, "es_ES", ["Madrid", "Barcelona", "Valencia"], "Europe/Madrid", "+346"),
    "IT": (8, "it_IT", ["Milan", "Rome", "Turin"], "Europe/Rome", "+39347"),
}
INDUSTRIES = [
    "Software",
    "Retail",
    "Healthcare",
    "Financial services",
    "Manufacturing",
    "Education",
    "Media",
    "Logistics",
]
JOB_TITLES = [
    "Marketing Manager", "Head of Growth", "CMO", "Demand Generation Lead", "Marketing Operations Manager",
    "Content Strategist", "Product Marketing Manager", "Sales Director", "CEO", "IT Manager", "Data Analyst",
    "Customer Success Manager", "Procurement Officer", "Founder", "Event Manager",
]  # fmt: skip
STAGES = [
    ("subscriber", 30),
    ("lead", 32),
    ("mql", 14),
    ("sql", 8),
    ("opportunity", 5),
    ("customer", 9),
    ("evangelist", 2),
]
SOURCES = [("website", 35), ("webinar", 20), ("event", 12), ("csv import", 10), ("ads", 13), ("referral", 10)]
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com"]
TAGS = ["webinar-2026", "newsletter", "vip", "partner", "event-paris", "trial", "champion", "do-not-call"]
PAGES = [
    ("/", 20), ("/blog/marketing-automation-guide", 8), ("/blog/lead-scoring-101", 6), ("/product", 12),
    ("/product/segments", 6), ("/pricing", 9), ("/customers", 5), ("/docs/getting-started", 6),
    ("/careers", 2), ("/webinars/w-42", 6), ("/contact", 3),
]  # fmt: skip
CHAT_LINES = [
    "Hi, can you tell me how your pricing works for a team of 20?",
    "Do you integrate with our CRM? We need the leads synced both ways.",
    "I can't log in since this morning, can someone help me?",
    "Is there a discount for non-profits or education?",
    "How does this compare to what we use today? We are thinking of switching.",
    "I'd like to see a demo with my team next week.",
    "Where can I find the recording of last week's webinar?",
    "We are not happy with the last invoice, we might cancel our plan.",
    "Can you send me a case study from a retailer like us?",
    "What is the difference between the standard and the enterprise plan?",
]
SOCIAL_LINES = [
    "Loved the webinar on lead scoring today, great tips!",
    "Anyone else using this for their nurturing campaigns? Thinking about it.",
    "Support took three days to answer me. Not great.",
    "This product made our Monday reporting disappear. Impressed.",
    "Looking for alternatives to our current marketing automation tool, suggestions?",
]
SEARCHES = [
    "pricing",
    "gdpr consent",
    "api key",
    "webinar recording",
    "segment examples",
    "cancel subscription",
    "invoice",
]
ASSETS = [
    "state-of-mops-2026.pdf",
    "lead-scoring-checklist.pdf",
    "roi-calculator.xlsx",
    "customer-story-retail.pdf",
]
INTEGRATIONS = {
    "web": "Website tracker",
    "email": "E-mail service events",
    "events": "Webinar tool",
    "chat": "Chat widget",
    "social": "Social listening",
    "search": "Website tracker",
    "ads": "Ads platform",
    "commerce": "Shop",
    "phone": "Call center",
    "sms": "SMS gateway",
}


@dataclass
class DemoSummary:
    users: int = 0
    accounts: int = 0
    contacts: int = 0
    touchpoints: int = 0
    actions: int = 0
    manual_actions: int = 0
    segments: int = 0
    intents: int = 0
    live_touchpoints: int = 0
    credentials: list[tuple[str, str]] = field(default_factory=list)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


class _Names:
    """Plausible names per country, drawn once from Faker and then sampled: Faker per row
    would cost minutes for a million contacts."""

    def __init__(self, seed: int, per_locale: int = 300):
        self.by_country = {}
        for code, (_, locale, *_rest) in COUNTRIES.items():
            fake = Faker(locale)
            fake.seed_instance(seed)
            firsts = [fake.first_name() for _ in range(per_locale)]
            lasts = [fake.last_name() for _ in range(per_locale)]
            self.by_country[code] = (firsts, lasts)
        company = Faker("en_US")
        company.seed_instance(seed)
        self.companies = [company.company() for _ in range(2000)]


@functools.cache
def _names(seed: int) -> _Names:
    return _Names(seed)


def _slug(text: str) -> str:
    kept = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(part for part in kept.split("-") if part)[:40] or "company"


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode() or "x"


def demo_users_ensure() -> list[tuple[str, str]]:
    """The demo's people, created once; existing passwords are left alone."""
    roles_sync()
    User = get_user_model()
    credentials = []
    password = None  # hashed once: the hasher is slow on purpose, and the password is public
    for username, first_name, role, superuser in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "email": f"{username}@example.com", "is_staff": True},
        )
        if created:
            user.is_superuser = superuser
            password = password or make_password(DEMO_PASSWORD)
            user.password = password
            user.save()
            user.groups.add(Group.objects.get(name=role))
        credentials.append((username, role))
    return credentials


def demo_accounts_create(*, count: int, rng: random.Random, names: _Names, owners: list[int]) -> list[tuple]:
    """Returns (id, domain, country) per account."""
    ids = reserve_ids(table=Account._meta.db_table, count=count)
    now = timezone.now()
    rows, result = [], []
    seen = set(Account.objects.exclude(domain="").values_list("domain", flat=True))
    for i, account_id in enumerate(ids):
        name = names.companies[i % len(names.companies)]
        if i >= len(names.companies):
            name = f"{name} {i // len(names.companies) + 1}"
        domain = f"{_slug(_ascii(name))}.com"
        while domain in seen:
            domain = f"{domain[:-4]}-{account_id}.com"
        seen.add(domain)
        country = _weighted(rng, [(code, spec[0]) for code, spec in COUNTRIES.items()])
        employees = int(min(200_000, rng.lognormvariate(4.5, 1.6))) + 2
        owner = rng.choice(owners) if owners and rng.random() < 0.4 else None
        rows.append(
            (
                account_id,
                name,
                domain,
                rng.choice(INDUSTRIES),
                employees,
                country,
                json.dumps({"tier": rng.choice(["smb", "mid-market", "enterprise"])}),
                owner,
                now,
                now,
            )
        )
        result.append((account_id, domain, country))
    copy_rows(
        table=Account._meta.db_table,
        columns=[
            "id",
            "name",
            "domain",
            "industry",
            "employees",
            "country",
            "attributes",
            "owner_id",
            "created_at",
            "updated_at",
        ],
        rows=rows,
    )
    return result


@dataclass
class _DemoContact:
    id: int
    email: str
    country: str
    stage: str
    source: str
    created_at: datetime
    consent_email: str
    consent_sms: str
    owner_id: int | None
    engagement: int  # 0 cold .. 3 hot


def demo_contact_rows(
    *,
    ids: list[int],
    rng: random.Random,
    names: _Names,
    accounts: list[tuple],
    owners: list[int],
    now: datetime,
) -> Iterator[tuple[tuple, _DemoContact]]:
    """Rows for COPY. The ids are reserved beforehand: no query may run on the connection
    while a COPY streams these rows."""
    country_weights = [(code, spec[0]) for code, spec in COUNTRIES.items()]
    for contact_id in ids:
        account = rng.choice(accounts) if accounts and rng.random() < 0.75 else None
        country = account[2] if account and rng.random() < 0.8 else _weighted(rng, country_weights)
        _, _, cities, tz, phone_prefix = COUNTRIES[country]
        firsts, lasts = names.by_country[country]
        first, last = rng.choice(firsts), rng.choice(lasts)
        domain = account[1] if account else rng.choice(FREE_MAIL)
        local = _slug(_ascii(f"{first}.{last}")).replace("-", ".")
        # the id keeps addresses unique across repeated runs
        email = f"{local}.{contact_id}@{domain}" if not account else f"{local}{contact_id}@{domain}"
        stage = _weighted(rng, STAGES)
        source = _weighted(rng, SOURCES)
        created_at = now - timedelta(days=rng.uniform(0, 400), seconds=rng.randint(0, 86399))
        consent_email = _weighted(rng, [("subscribed", 70), ("unsubscribed", 8), ("", 22)])
        consent_sms = _weighted(rng, [("subscribed", 22), ("unsubscribed", 5), ("", 73)])
        phone = f"{phone_prefix}{rng.randint(1000000, 9999999)}"[:16] if rng.random() < 0.5 else ""
        owner = rng.choice(owners) if owners and stage in ("sql", "opportunity", "customer") else None
        engagement = _weighted(rng, [(0, 35), (1, 35), (2, 20), (3, 10)])
        score = 0  # the demo's scoring rules compute it from what the contact does
        attributes = {
            "language": COUNTRIES[country][1][:2],
            "newsletter_topics": rng.sample(["product", "events", "guides"], 2),
        }
        row = (
            contact_id,
            email,
            first,
            last,
            phone,
            rng.choice(JOB_TITLES),
            rng.choice(cities),
            country,
            tz,
            stage,
            source,
            score,
            owner,
            account[0] if account else None,
            consent_email,
            consent_sms,
            json.dumps(attributes),
            created_at,
            created_at,
        )
        yield (
            row,
            _DemoContact(
                contact_id,
                email,
                country,
                stage,
                source,
                created_at,
                consent_email,
                consent_sms,
                owner,
                engagement,
            ),
        )


CONTACT_COLUMNS = [
    "id", "email", "first_name", "last_name", "phone", "job_title", "city", "country", "timezone",
    "lifecycle_stage", "source", "score", "owner_id", "account_id", "consent_email", "consent_sms",
    "attributes", "created_at", "updated_at",
]  # fmt: skip


def demo_contacts_copy(*, count: int, seed: int = 42, accounts_per_contact: float = 0.12) -> int:
    """Only contacts (and their accounts), as fast as COPY goes: for benchmarks."""
    rng = random.Random(seed)
    names = _names(seed)
    accounts = demo_accounts_create(
        count=max(1, int(count * accounts_per_contact)), rng=rng, names=names, owners=[]
    )
    ids = reserve_ids(table=Contact._meta.db_table, count=count)
    rows = (
        row
        for row, _ in demo_contact_rows(
            ids=ids, rng=rng, names=names, accounts=accounts, owners=[], now=timezone.now()
        )
    )
    return copy_rows(table=Contact._meta.db_table, columns=CONTACT_COLUMNS, rows=rows)


class _Ledger:
    """Collects the demo's action rows: who did what, algorithmic or by hand."""

    def __init__(self, users: dict[str, int]):
        self.rows: list[tuple] = []
        self.users = users
        self.manual = 0

    def add(
        self, when, *, kind, actor_type, actor_name, category, verb, contact_id=None, channel="", details=None
    ):
        actor_id = self.users.get(actor_name) if actor_type == "user" else None
        self.rows.append(
            (
                when,
                kind,
                actor_type,
                actor_id,
                actor_name,
                category,
                verb,
                contact_id,
                "",
                "",
                channel,
                json.dumps({"demo": True, **(details or {})}),
            )
        )
        self.manual += kind == "manual"


def _touchpoints_for(contact: _DemoContact, rng: random.Random, now: datetime, days: int) -> Iterator[tuple]:
    """(kind, channel, occurred_at, source, text, properties) in a plausible order."""
    start = max(contact.created_at, now - timedelta(days=days))
    span = (now - start).total_seconds()
    if span <= 0:
        return
    visits = [0, 2, 6, 14][contact.engagement] + rng.randint(0, 3)

    def moment(after: datetime | None = None, within_days: float | None = None) -> datetime:
        """A moment in the contact's history, or soon after `after`; never after now."""
        if after is not None:
            return min(after + timedelta(minutes=rng.randint(5, int((within_days or 1) * 1440))), now)
        return start + timedelta(seconds=rng.uniform(0, span))

    for _ in range(visits):
        at = moment()
        for _ in range(rng.randint(1, 4)):
            path = _weighted(rng, PAGES)
            yield "page_view", "web", at, "website", "", {"path": path}
            at = min(at + timedelta(seconds=rng.randint(20, 400)), now)
        if rng.random() < 0.08:
            yield "search", "search", at, "website", "", {"query": rng.choice(SEARCHES)}
    if contact.consent_email == "subscribed":
        for _ in range(rng.randint(0, 2 + contact.engagement * 2)):
            opened = moment()
            yield (
                "email_open",
                "email",
                opened,
                "esp",
                "",
                {"campaign": rng.choice(["newsletter", "nurture", "webinar-invite"])},
            )
            if rng.random() < 0.35:
                yield (
                    "email_click",
                    "email",
                    moment(opened, 0.05),
                    "esp",
                    "",
                    {"url": rng.choice(["/pricing", "/webinars/w-42", "/blog/lead-scoring-101"])},
                )
    if contact.engagement >= 1 and rng.random() < 0.3:
        registered = moment()
        yield "webinar_registration", "events", registered, "webinar tool", "", {"webinar_id": "w-42"}
        if rng.random() < 0.6:
            yield (
                "webinar_attended",
                "events",
                moment(registered, 3),
                "webinar tool",
                "",
                {"webinar_id": "w-42", "minutes": rng.randint(5, 60)},
            )
    if contact.engagement >= 1 and rng.random() < 0.25:
        yield "content_download", "web", moment(), "website", "", {"asset": rng.choice(ASSETS)}
    if contact.engagement >= 2 and rng.random() < 0.3:
        yield "chat_message", "chat", moment(), "chat widget", rng.choice(CHAT_LINES), {}
    if rng.random() < 0.04:
        yield (
            "social_mention",
            "social",
            moment(),
            "social listening",
            rng.choice(SOCIAL_LINES),
            {"network": rng.choice(["linkedin", "x", "bluesky"])},
        )
    if rng.random() < 0.1:
        yield (
            "ad_click",
            "ads",
            moment(),
            "ads",
            "",
            {"ad_campaign": rng.choice(["q4-retargeting", "brand-search"])},
        )
    if contact.engagement == 3 and rng.random() < 0.5:
        # hot means now: the pricing visit before a demo request is of the last fortnight
        pricing = max(start, now - timedelta(days=rng.uniform(0, 14)))
        yield "page_view", "web", pricing, "website", "", {"path": "/pricing"}
        yield "demo_request", "web", moment(pricing, 0.2), "website", "", {"form": "demo"}
    if contact.stage == "customer" and rng.random() < 0.4:
        yield (
            "purchase",
            "commerce",
            moment(),
            "shop",
            "",
            {"amount": rng.choice([49, 99, 499, 1200]), "currency": "EUR"},
        )


@transaction.atomic
def demo_seed(*, contacts: int = 400, days: int = 90, seed: int = 42) -> DemoSummary:
    summary = DemoSummary()
    rng = random.Random(seed)
    now = timezone.now()
    summary.credentials = demo_users_ensure()
    users = dict(get_user_model().objects.values_list("username", "pk"))
    owners = [users["alice.sales"], users["bob.sales"]]
    names = _names(seed)
    ledger = _Ledger(users)

    accounts = demo_accounts_create(count=max(3, contacts // 8), rng=rng, names=names, owners=owners)
    summary.accounts = len(accounts)

    demo_contacts, contact_rows = [], []
    ids = reserve_ids(table=Contact._meta.db_table, count=contacts)
    for row, contact in demo_contact_rows(
        ids=ids, rng=rng, names=names, accounts=accounts, owners=owners, now=now
    ):
        contact_rows.append(row)
        demo_contacts.append(contact)
    summary.contacts = copy_rows(table=Contact._meta.db_table, columns=CONTACT_COLUMNS, rows=contact_rows)

    tag_ids = {}
    for name in TAGS:
        tag_ids[name] = Tag.objects.get_or_create(name=name)[0].pk
    touchpoint_rows, tag_rows, consent_rows = [], [], []
    for contact in demo_contacts:
        if contact.source == "csv import":
            ledger.add(
                contact.created_at,
                kind="manual",
                actor_type="user",
                actor_name="marketer",
                category="import",
                verb="contact.imported",
                contact_id=contact.id,
                details={"file": rng.choice(["webinar-w41.csv", "trade-show-berlin.csv"])},
            )
        else:
            ledger.add(
                contact.created_at,
                kind="algorithmic",
                actor_type="integration",
                actor_name="Website forms",
                category="data_capture",
                verb="contact.created",
                contact_id=contact.id,
            )
        for channel in ("email", "sms"):
            status = contact.consent_email if channel == "email" else contact.consent_sms
            if status:
                consent_rows.append(
                    (
                        contact.id,
                        channel,
                        status,
                        "",
                        contact.created_at,
                        "algorithmic",
                        "Website forms",
                        "signup form",
                        json.dumps({"ip": f"203.0.113.{rng.randint(1, 254)}", "form": "/newsletter"}),
                    )
                )
        if contact.owner_id:
            by_hand = rng.random() < 0.5
            ledger.add(
                min(contact.created_at + timedelta(days=2), now),
                kind="manual" if by_hand else "algorithmic",
                actor_type="user" if by_hand else "rule",
                actor_name="marketer" if by_hand else "Round-robin routing",
                category="routing",
                verb="lead.routed",
                contact_id=contact.id,
            )
        for name in rng.sample(TAGS, k=_weighted(rng, [(0, 40), (1, 35), (2, 20), (3, 5)])):
            by_hand = rng.random() < 0.15
            tag_rows.append((contact.id, tag_ids[name], contact.created_at))
            ledger.add(
                contact.created_at,
                kind="manual" if by_hand else "algorithmic",
                actor_type="user" if by_hand else "rule",
                actor_name="marketer" if by_hand else "Tagging rules",
                category="tagging",
                verb="tag.added",
                contact_id=contact.id,
                details={"tag": name},
            )
        for kind, channel, at, source, text, properties in _touchpoints_for(contact, rng, now, days):
            touchpoint_rows.append(
                (contact.id, kind, channel, at, source, text, json.dumps(properties), None, "", at)
            )
            imported = kind in ("webinar_registration", "webinar_attended") and rng.random() < 0.2
            if imported:
                ledger.add(
                    min(at + timedelta(hours=20), now),  # the file came in the next morning
                    kind="manual",
                    actor_type="user",
                    actor_name="marketer",
                    category="import",
                    verb="touchpoint.imported",
                    contact_id=contact.id,
                    channel=channel,
                    details={"kind": kind, "file": "webinar-w42-attendees.csv"},
                )
            else:
                ledger.add(
                    at,
                    kind="algorithmic",
                    actor_type="integration",
                    actor_name=INTEGRATIONS[channel],
                    category="data_capture",
                    verb="touchpoint.captured",
                    contact_id=contact.id,
                    channel=channel,
                    details={"kind": kind},
                )
            if kind == "email_open":
                ledger.add(
                    max(at - timedelta(hours=rng.randint(1, 30)), contact.created_at),
                    kind="algorithmic",
                    actor_type="campaign",
                    actor_name=properties["campaign"],
                    category="email",
                    verb="email.sent",
                    contact_id=contact.id,
                    channel="email",
                )
    # A few things people still do by hand each week.
    for week in range(days // 7):
        when = now - timedelta(days=7 * week + rng.uniform(0, 6))
        for _ in range(rng.randint(1, 3)):
            known = [contact for contact in demo_contacts if contact.created_at <= when]
            if not known:
                continue
            contact = rng.choice(known)
            ledger.add(
                when,
                kind="manual",
                actor_type="user",
                actor_name="marketer",
                category="field_update",
                verb="contact.updated",
                contact_id=contact.id,
                details={"changes": {"job_title": ["", rng.choice(JOB_TITLES)]}},
            )
        ledger.add(
            when,
            kind="manual",
            actor_type="user",
            actor_name="marketer",
            category="campaign_management",
            verb="email.sent",
            channel="email",
            details={"recipients": rng.randint(200, 900)},
        )

    summary.touchpoints = copy_rows(
        table=Touchpoint._meta.db_table,
        columns=[
            "contact_id",
            "kind_id",
            "channel",
            "occurred_at",
            "source",
            "text",
            "properties",
            "external_id",
            "intent",
            "created_at",
        ],
        rows=touchpoint_rows,
    )
    copy_rows(table=ContactTag._meta.db_table, columns=["contact_id", "tag_id", "added_at"], rows=tag_rows)
    copy_rows(
        table=ConsentChange._meta.db_table,
        columns=[
            "contact_id",
            "channel",
            "status",
            "previous_status",
            "changed_at",
            "actor_kind",
            "actor_name",
            "source",
            "evidence",
        ],
        rows=consent_rows,
    )
    summary.actions = copy_rows(
        table=Action._meta.db_table,
        columns=[
            "occurred_at",
            "actor_kind",
            "actor_type",
            "actor_id",
            "actor_name",
            "category",
            "verb",
            "contact_id",
            "object_type",
            "object_id",
            "channel",
            "details",
        ],
        rows=ledger.rows,
    )
    summary.manual_actions = ledger.manual
    demo_intent_rules_create()
    summary.intents = demo_history_replay(contact_ids=ids, since=now - timedelta(days=days), now=now)
    demo_stages_align(contact_ids=ids)
    summary.users = len(summary.credentials)
    summary.segments = demo_segments_create(
        marketer=get_user_model().objects.get(username="marketer"), rng=rng
    )
    from demo.email import demo_email_create

    demo_email_create(marketer=get_user_model().objects.get(username="marketer"))
    summary.live_touchpoints = demo_live_traffic(contact_ids=ids, rng=rng, now=now)
    return summary


def demo_stages_align(*, contact_ids: list[int]) -> int:
    """The stages marketing gives follow the lead score, as the team defines them: a
    subscriber or lead whose score reached the MQL threshold is a marketing-qualified lead,
    and an MQL is one whose score is there now (one whose score has faded is a lead again).
    The stages sales gives (SQL and after) stay. Runs once the replay has set the scores,
    before any segment reads the stages. Returns how many contacts changed stage."""
    from intents.scoring import mql_threshold

    threshold = mql_threshold()
    contacts = Contact.objects.filter(pk__in=contact_ids)
    promoted = contacts.filter(lifecycle_stage__in=("subscriber", "lead"), score__gte=threshold).update(
        lifecycle_stage="mql"
    )
    recycled = contacts.filter(lifecycle_stage="mql", score__lt=threshold).update(lifecycle_stage="lead")
    return promoted + recycled


# This morning's traffic: (integration, touchpoint kind, source, properties, how many).
LIVE_TRAFFIC = [
    ("Website forms", "form_submit", "website", {"form": "trial-signup"}, 6),
    ("Webinar tool", "webinar_registration", "webinar tool", {"webinar_id": "w-43"}, 5),
]


def demo_live_traffic(*, contact_ids: list[int], rng: random.Random, now: datetime) -> int:
    """The last hour's sign-ups and webinar registrations, captured through the ingest
    service as the integrations send them, so the demo campaigns that listen for them have
    people inside: each touchpoint waits for a worker (make run's, once it starts), which
    enrolls its contact and sends the campaign's e-mail through the configured back-end
    (the console by default). Contacts who unsubscribed are left out. Returns how many
    touchpoints were captured."""
    from contacts.services import touchpoint_create
    from ledger.context import Actor, acting_as
    from ledger.models import Integration

    reachable = list(
        Contact.objects.filter(pk__in=contact_ids).exclude(consent_email="unsubscribed").order_by("pk")
    )
    wanted = sum(count for *_, count in LIVE_TRAFFIC)
    people = iter(rng.sample(reachable, k=min(wanted, len(reachable))))
    captured = 0
    for name, kind, source, properties, count in LIVE_TRAFFIC:
        integration, _ = Integration.objects.get_or_create(name=name)
        with acting_as(Actor.for_integration(integration_id=integration.pk, name=name)):
            for contact in itertools.islice(people, count):
                touchpoint_create(
                    contact=contact,
                    kind=kind,
                    source=source,
                    properties=properties,
                    occurred_at=max(now - timedelta(minutes=rng.randint(1, 60)), contact.created_at),
                )
                captured += 1
    return captured


DEMO_SEGMENTS = [
    ("French-speaking leads", "Leads and MQLs in France and Belgium.", {"all": [
        {"field": "country", "op": "in", "value": ["FR", "BE"]},
        {"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]},
    ]}),
    ("Engaged readers", "Clicked our e-mails at least twice in the last 30 days.",
     {"touchpoint": {"kind": "email_click"}, "count": {"op": "gte", "value": 2}, "within": "30d"}),
    ("Company looking at pricing", "Someone at the same company viewed the pricing page this fortnight.",
     {"account_touchpoint": {"kind": "page_view", "where": [
         {"field": "properties.path", "op": "starts_with", "value": "/pricing"}]}, "within": "14d"}),
    ("Webinar no-shows", "Registered for a webinar and never attended one.", {"all": [
        {"touchpoint": {"kind": "webinar_registration"}},
        {"touchpoint": {"kind": "webinar_attended"}, "count": {"op": "eq", "value": 0}},
    ]}),
    ("Comparing plans", "Shows the compare intent now (scores fade with the intent's half-life).",
     {"intent": "compare", "min_score": 0.3}),
    ("Engaged French-speaking VIPs", "Uses two other segments and a tag.", {"all": [
        {"segment": "french-speaking-leads"}, {"segment": "engaged-readers"}, {"tag": "vip"},
    ]}),
]  # fmt: skip


def demo_segments_create(*, marketer, rng: random.Random) -> int:
    """Segments a marketer would have built, with their members; and a static list."""
    from django.utils.text import slugify

    from ledger.context import Actor, acting_as
    from segments.models import Segment
    from segments.services import segment_create, segment_rebuild, static_members_add

    def made(name: str, **fields) -> Segment:
        # A second demo load re-forms the segments it made the first time.
        return Segment.objects.filter(slug=slugify(name)).first() or segment_create(name=name, **fields)

    with acting_as(Actor.for_user(marketer)):
        for name, description, conditions in DEMO_SEGMENTS:
            segment_rebuild(segment=made(name, description=description, conditions=conditions))
        guests = made(
            "Trade show Berlin guests", kind="static", description="Met at the booth; kept by hand."
        )
        contact_ids = list(Contact.objects.order_by("id").values_list("pk", flat=True)[:200])
        static_members_add(segment=guests, contact_ids=rng.sample(contact_ids, k=min(25, len(contact_ids))))
    return len(DEMO_SEGMENTS) + 1
