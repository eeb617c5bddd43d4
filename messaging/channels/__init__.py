"""The channels the outbox sends on, by the name messages carry (see base.Channel). A new
channel is a module with its `CHANNEL` and a line here."""

from messaging.channels import email, sms, webhook
from messaging.channels.base import Channel

CHANNELS: dict[str, Channel] = {
    channel.name: channel for channel in (email.CHANNEL, sms.CHANNEL, webhook.CHANNEL)
}
