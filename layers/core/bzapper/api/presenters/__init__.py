"""Presenters: domain records as the API shows them (the JSON of each response, before its schema checks it)."""
