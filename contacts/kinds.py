"""The touchpoint kinds every installation starts with. Marketers add their own in the admin."""

KINDS = [
    ("page_view", "Page view", "web"),
    ("form_submit", "Form submitted", "web"),
    ("email_open", "E-mail opened", "email"),
    ("email_click", "E-mail link clicked", "email"),
    ("email_bounce", "E-mail bounced", "email"),
    ("email_complaint", "Spam complaint", "email"),
    ("unsubscribe", "Unsubscribed", "email"),
    ("webinar_registration", "Webinar registration", "events"),
    ("webinar_attended", "Webinar attended", "events"),
    ("event_registration", "Event registration", "events"),
    ("content_download", "Content downloaded", "web"),
    ("demo_request", "Demo requested", "web"),
    ("chat_message", "Chat message", "chat"),
    ("social_mention", "Social mention", "social"),
    ("social_comment", "Social comment", "social"),
    ("search", "Site search", "search"),
    ("ad_click", "Ad clicked", "ads"),
    ("sms_reply", "SMS reply", "sms"),
    ("call", "Phone call", "phone"),
    ("purchase", "Purchase", "commerce"),
]


def default_kinds_ensure(TouchpointKind) -> None:
    """Create the default kinds that are missing; leaves edited ones alone. Takes the model
    class so that migrations can pass their historical one."""
    existing = set(TouchpointKind.objects.values_list("key", flat=True))
    TouchpointKind.objects.bulk_create(
        [
            TouchpointKind(key=key, name=name, default_channel=channel)
            for key, name, channel in KINDS
            if key not in existing
        ]
    )
