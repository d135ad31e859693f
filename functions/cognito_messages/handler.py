"""The user pool's CustomMessage trigger: Cognito's confirmation and reset emails, in the user's language."""

from bzapper.lambda_entry import trigger_handler
from bzapper.services.identity_messages import custom_message

handler = trigger_handler(custom_message)
