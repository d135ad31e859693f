"""The six stacks of a stage: data, messaging, identity, api, sessions, observability."""
