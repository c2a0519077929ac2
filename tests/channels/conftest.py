"""The channels' tests drive the same conversation fixture as the app's."""

from tests.app.conftest import conv, conversation_over

__all__ = ["conv", "conversation_over"]
