"""Demo e-mail: a brand layout, the templates a MOps team would write, and running campaigns
that send them (a welcome for new sign-ups and its check-in three days later, the webinar
confirmation and its follow-up)."""

from __future__ import annotations

from campaigns.models import Campaign
from messaging.models import EmailLayout, EmailTemplate

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ subject }}</title></head>
<body style="margin:0;background:#eef2f7;font-family:Helvetica,Arial,sans-serif;color:#1f2937">
<div style="display:none;max-height:0;overflow:hidden">{{ preheader }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#eef2f7">
<tr><td align="center" style="padding:28px 12px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%">
<tr><td style="background:#1e3a8a;border-radius:12px 12px 0 0;padding:20px 32px;color:#fff;font-size:20px;
font-weight:bold;letter-spacing:.02em">Northwind Analytics</td></tr>
<tr><td style="background:#ffffff;padding:32px;font-size:16px;line-height:1.6;border-radius:0 0 12px 12px">
{{ content }}</td></tr>
<tr><td style="padding:18px 32px;font-size:12px;color:#6b7280;text-align:center">
Northwind Analytics · 12 rue des Halles, 75001 Paris<br>
You get this e-mail as {{ contact.email }}.
<a href="{{ preferences_url }}" style="color:#6b7280">Choose what you receive</a> ·
<a href="{{ unsubscribe_url }}" style="color:#6b7280">Unsubscribe</a></td></tr>
</table></td></tr></table></body></html>"""

BUTTON = (
    'style="display:inline-block;background:#2563eb;color:#ffffff;padding:12px 22px;border-radius:8px;'
    'text-decoration:none;font-weight:bold"'
)

TEMPLATES = [
    {
        "slug": "welcome",
        "name": "Welcome to Northwind",
        "subject": '{{ contact.first_name|default:"Hello" }}, welcome to Northwind',
        "preheader": "Three things to try in your first week",
        "html": f"""<h1 style="font-size:24px;margin:0 0 16px">Welcome, {{{{ contact.first_name|default:"there" }}}}!</h1>
<p>Thanks for signing up{{% if account.name %}} for the {{{{ account.name }}}} team{{% endif %}}.
Here is what people try first:</p>
<ul>
<li><strong>Connect a data source</strong>: your first dashboard in five minutes.</li>
<li><strong>Invite a colleague</strong>: reports are better shared.</li>
<li><strong>Book a tour</strong> with one of our experts.</li>
</ul>
<p style="margin:28px 0"><a href="https://northwind.example.com/start" {BUTTON}>Start the tour</a></p>
<p>See you inside,<br>Camille from Northwind</p>""",
    },
    {
        "slug": "first-week",
        "name": "Welcome: how is your first week?",
        "subject": 'How is it going, {{ contact.first_name|default:"there" }}?',
        "preheader": "Two minutes to get more out of your trial",
        "html": f"""<h1 style="font-size:24px;margin:0 0 16px">Three days in</h1>
<p>Hi {{{{ contact.first_name|default:"there" }}}}, most teams have their first dashboard by now.
If yours is not there yet, one of these usually helps:</p>
<ul>
<li><strong>Start from a template</strong>: sales, marketing or support.</li>
<li><strong>Ask us</strong>: reply to this e-mail, a person reads it.</li>
</ul>
<p style="margin:28px 0"><a href="https://northwind.example.com/templates" {BUTTON}>Browse the templates</a></p>""",
    },
    {
        "slug": "webinar-confirmation",
        "name": "Webinar: you are registered",
        "subject": 'You are in, {{ contact.first_name|default:"friend" }}: Thursday, 4 pm CET',
        "preheader": "Add it to your calendar; the link works on any device",
        "html": f"""<h1 style="font-size:24px;margin:0 0 16px">See you on Thursday</h1>
<p>Hi {{{{ contact.first_name|default:"there" }}}}, your seat for <strong>Dashboards that people read</strong> is saved.</p>
<p><strong>When:</strong> Thursday, 4 pm CET (45 minutes and questions)<br>
<strong>Where:</strong> online, from your browser</p>
<p style="margin:28px 0"><a href="https://northwind.example.com/webinars/dashboards/join" {BUTTON}>Add to my calendar</a></p>
<p>Can't make it? Stay registered: we send the replay to everyone.</p>""",
    },
    {
        "slug": "webinar-follow-up",
        "name": "Webinar: thank you and replay",
        "subject": 'The slides and the replay, {{ contact.first_name|default:"as promised" }}',
        "preheader": "Plus the three questions we had no time for",
        "html": f"""<h1 style="font-size:24px;margin:0 0 16px">Thank you for joining</h1>
<p>Hi {{{{ contact.first_name|default:"there" }}}}, here is everything from <em>Dashboards that people read</em>:</p>
<p style="margin:24px 0"><a href="https://northwind.example.com/webinars/dashboards/replay" {BUTTON}>Watch the replay</a></p>
<p>{{% if account.employees and account.employees >= 200 %}}Teams of your size usually start with a
<a href="https://northwind.example.com/demo">guided demo</a>.{{% else %}}Try it on your own data with a
<a href="https://northwind.example.com/trial">free trial</a>.{{% endif %}}</p>""",
    },
]


def demo_email_create(*, marketer) -> int:
    """The layout, templates and e-mail campaigns, made once (a second load keeps them); how
    many templates exist afterwards."""
    from campaigns.services import campaign_create, campaign_publish
    from ledger.context import Actor, acting_as
    from messaging.services import email_layout_save, email_template_create

    with acting_as(Actor.for_user(marketer)):
        layout = EmailLayout.objects.filter(name="Northwind").first() or email_layout_save(
            layout=EmailLayout(), data={"name": "Northwind", "html": LAYOUT}
        )
        for template in TEMPLATES:
            if not EmailTemplate.objects.filter(slug=template["slug"]).exists():
                email_template_create(layout=layout, **template)
        journeys = [
            ("Welcome new sign-ups", "Greets everyone who fills in the sign-up form, then asks how it goes.",
             [{"kind": "touchpoint", "touchpoint_kinds": ["form_submit"]}],
             [{"key": "welcome", "type": "send_email", "template": "welcome"},
              {"key": "tag", "type": "add_tag", "tags": ["welcomed"]},
              {"key": "settle", "type": "wait", "days": 3},
              {"key": "first-week", "type": "send_email", "template": "first-week"}]),
            ("Webinar: Dashboards that people read", "Confirms the registration, then thanks after the event.",
             [{"kind": "touchpoint", "touchpoint_kinds": ["webinar_registration"]}],
             [{"key": "confirm", "type": "send_email", "template": "webinar-confirmation"},
              {"key": "after", "type": "wait", "days": 2},
              {"key": "follow-up", "type": "send_email", "template": "webinar-follow-up"}]),
        ]  # fmt: skip
        for name, description, triggers, steps in journeys:
            if not Campaign.objects.filter(name=name).exists():
                campaign = campaign_create(name=name, description=description, steps=steps, triggers=triggers)
                campaign_publish(campaign=campaign)
    return EmailTemplate.objects.count()
