"""Channels other than e-mail (SMS, webhooks), the gates every channel passes at send time,
and what comes back from the channels: bounces, complaints, STOP replies."""
