"""The simulated Meta WhatsApp Cloud API (the Graph API) of test mode: the outside world of `cloud` numbers.

`model.py` is the simulator (numbers, WABAs, templates, the 24-hour window, statuses with pricing, signed
webhooks and their redelivery), `http.py` puts it on HTTP under `/graph` (Meta's endpoints) and `/graph-sim`
(test controls), served by the sandbox network server. It is an independent model of Meta: it never imports
the product's cloud engine, so it tests our adapter against Meta's documented shapes, not against itself.
"""

from bzapper_dev.sandbox.graph.model import INVALID_TOKEN, TEST_APP_SECRET, GraphError, GraphSim, sign

__all__ = ["INVALID_TOKEN", "TEST_APP_SECRET", "GraphError", "GraphSim", "sign"]
