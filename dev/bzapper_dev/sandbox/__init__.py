"""The sandbox WhatsApp network: WhatsApp's servers and the contacts' phones, in one process's memory.

`network.py` is the simulator, `server.py` serves it over HTTP to the sandbox engines of the session
workers (`bzapper.engines.sandbox.client`) and to the API's sandbox endpoints.
"""
