"""The contracts of exsched: API models, bus envelopes, names and identifiers.

Pure data: this package imports only pydantic and the standard library and does no I/O, so
that the scheduler, the workers and any outside client agree on one definition.
"""
