"""One Messenger for an alliance on Slack and Teams, routing each call by its address.

Services keep calling a single Messenger; whether a person, channel or message is on Slack or
on Teams is told from the id itself (`bot.domain.platforms.platform_of`), so each person is
reached on their own platform and each channel on the platform it belongs to.
"""

from __future__ import annotations

from bot.domain.platforms import Platform, platform_of
from bot.ports import DigestProgress, MessageRef, Messenger, MessengerError, UserProfile
from bot.views.message import Message, Thread


class MessengerRouter:
    """Sends through the Slack or the Teams messenger, whichever owns the address."""

    def __init__(self, slack: Messenger | None = None, teams: Messenger | None = None) -> None:
        self.messengers: dict[Platform, Messenger | None] = {"slack": slack, "teams": teams}

    def for_address(self, address: str, method: str = "") -> Messenger:
        """The messenger for a user id, channel id or message address."""
        platform = platform_of(address)
        messenger = self.messengers[platform]
        if messenger is None:
            # Not a crash: the alliance names someone on a platform this deployment lacks.
            raise MessengerError(f"{platform}_not_configured", method)
        return messenger

    def send(self, to: str, message: Message, *, paced: bool = False) -> MessageRef:
        """Post a message on the platform of the person or conversation it is for."""
        return self.for_address(to, "send").send(to, message, paced=paced)

    def pace_key(self, to: str) -> str:
        """The platform and its own pace key (a workspace, a tenant) of a paced send."""
        platform = platform_of(to)
        messenger = self.messengers[platform]
        return f"{platform}:{messenger.pace_key(to) if messenger is not None else ''}"

    def update(self, ref: MessageRef, message: Message) -> None:
        """Replace a message on the platform it was posted on."""
        self.for_address(ref.channel, "update").update(ref, message)

    # ------------------------------------------------------------------ check-ins

    def channel_members(self, channel: str) -> list[str]:
        """Members of a Slack channel or a Teams team."""
        return self.for_address(channel, "channel_members").channel_members(channel)

    def usergroup_members(self, usergroup: str) -> list[str]:
        """Members of a Slack user group (Teams has none)."""
        return self.for_address(usergroup, "usergroup_members").usergroup_members(usergroup)

    def user_profile(self, user_id: str) -> UserProfile | None:
        """Time zone and status, where the platform says."""
        return self.for_address(user_id, "user_profile").user_profile(user_id)

    def user_by_email(self, platform: str, email: str, where: str | None = None) -> str | None:
        """Look an address up on the platform named (an address says nothing of its platform)."""
        messenger = self.messengers["teams" if platform == "teams" else "slack"]
        if messenger is None:
            raise MessengerError(f"{platform}_not_configured", "user_by_email")
        return messenger.user_by_email(platform, email, where)

    def find_prompt(self, user_id: str, prompt_id: int) -> MessageRef | None:
        """A prompt already delivered, if the platform can tell."""
        return self.for_address(user_id, "find_prompt").find_prompt(user_id, prompt_id)

    def fewer_senders(self) -> None:
        """Tell every platform's messenger that fewer workers share its limits now."""
        for messenger in self.messengers.values():
            if messenger is not None:
                messenger.fewer_senders()

    def can_find_prompt(self, user_id: str) -> bool:
        """Whether the person's platform lets a bot read its chat back."""
        messenger = self.messengers[platform_of(user_id)]
        return messenger is not None and messenger.can_find_prompt(user_id)

    # ------------------------------------------------------------------ escalations

    def link_to(self, ref: MessageRef) -> str | None:
        """A link to a message, if its platform has one."""
        return self.for_address(ref.channel, "link_to").link_to(ref)

    # ------------------------------------------------------------------ privacy

    def send_file(self, user_id: str, filename: str, content: bytes, comment: str) -> None:
        """A file to a person on their platform."""
        self.for_address(user_id, "send_file").send_file(user_id, filename, content, comment)

    # ------------------------------------------------------------------ digests, inquiries

    def post_digest(
        self, channel: str, digest: Thread, progress: DigestProgress | None = None
    ) -> MessageRef:
        """A digest in a Slack or a Teams channel (or a manager's DM)."""
        return self.for_address(channel, "post_digest").post_digest(channel, digest, progress)

    def upload_chart(
        self, channel: str, png: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """A chart image where the digest went."""
        self.for_address(channel, "upload_chart").upload_chart(
            channel, png, filename, title, alt_text
        )

    def join_channel(self, channel: str) -> None:
        """Join a channel (Slack; on Teams the app must be added)."""
        self.for_address(channel, "join_channel").join_channel(channel)
