"""The CDK app (Python) that deploys bzapper: every resource derived from `bzapper.topology`."""
