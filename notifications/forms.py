"""The preferences form, on a person's own page and in the admin: the chat webhook URL is a secret, never shown."""

from django import forms

from notifications.models import Channel, Preference


class PreferenceForm(forms.ModelForm):
    chat = forms.ChoiceField(
        required=False,
        label="Also post to",
        choices=[
            ("", "No chat"),
            (Channel.SLACK.value, Channel.SLACK.label),
            (Channel.TEAMS.value, Channel.TEAMS.label),
        ],
    )
    chat_webhook_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Chat webhook URL",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Paste the incoming webhook URL of your Slack or Teams channel. Left empty, the one saved stays.",
    )
    forget_chat_webhook = forms.BooleanField(required=False, label="Forget the saved webhook URL")

    class Meta:
        model = Preference
        fields = ["email", "chat", "chat_webhook_url", "approvals", "reminders"]
        labels = {
            "email": "Email me",
            "approvals": "Requests waiting for my decision",
            "reminders": "Reminders before a request's deadline",
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        new_url = cleaned.get("chat_webhook_url") or ""
        if cleaned.get("forget_chat_webhook"):
            cleaned["chat_webhook_url"] = ""
        elif not new_url:
            cleaned["chat_webhook_url"] = self.instance.chat_webhook_url if self.instance.pk else ""
        if cleaned.get("chat") and not cleaned["chat_webhook_url"] and "chat_webhook_url" not in self.errors:
            self.add_error("chat_webhook_url", "Paste the channel's incoming webhook URL, or choose no chat.")
        return cleaned
