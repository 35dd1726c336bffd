"""Everything iCalendar: the calendar facts of an occurrence, iTIP/iMIP and feed bytes, time zone
definitions, and the webcal feeds with their cache."""
