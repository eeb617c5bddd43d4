"""A campaign as the origin of what it makes in the apps below (messages, tasks, leads):
its name, and its actor in the ledger. Registered when the app loads (see ledger.origins)."""

from __future__ import annotations

from collections.abc import Collection

from django.urls import reverse

from campaigns.models import Campaign
from ledger.context import Actor
from ledger.origins import Origin

ORIGIN_TYPE = "campaign"


def campaign_actor(campaign: Campaign) -> Actor:
    return Actor.for_campaign(campaign_id=campaign.pk, name=f"campaign “{campaign.name}”"[:200])


def campaign_origin(campaign: Campaign) -> Origin:
    return Origin(
        type=ORIGIN_TYPE,
        id=campaign.pk,
        name=campaign.name,
        actor=campaign_actor(campaign),
        object_type=Campaign._meta.label_lower,
        url=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
    )


def campaign_origins(ids: Collection[int]) -> dict[int, Origin]:
    return {campaign.pk: campaign_origin(campaign) for campaign in Campaign.objects.filter(pk__in=list(ids))}
