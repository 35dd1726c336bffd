"""Files people open: a report as a table in the reader's language, and tables as .xlsx or CSV
(shared by the console's downloads and the monthly digest's attachment)."""
