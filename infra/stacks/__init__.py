"""The five stacks of a stage: data, messaging, api, sessions, observability."""
