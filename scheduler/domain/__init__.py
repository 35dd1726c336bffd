"""The association's facts and rules: series and their recurrence, holidays, members and their
subscriptions, chapter chat groups, staff accounts and API keys, signed tokens, errors.

Pure functions where it can be (rules, recurrence, holidays); the rest reads and writes the
database through the models in :mod:`scheduler.db`. Nothing here knows about HTTP, the bus or
notices.
"""
