"""The demo shop: a whole shop on one machine, on embedded defaults (``make demo``)."""
