"""The two front ends over the engine: the ``conformance`` command line and the pytest
plugin, with what they share: the session (catalog, registry, oracle, selection),
recording results, reproducing failures, progress.

May import everything below it; nothing imports it.
"""
