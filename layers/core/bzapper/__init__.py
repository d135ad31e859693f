"""bzapper: the core package shared by every Lambda function, the session worker and the local runtime."""
