"""The life of a notice: what is owed (policy), keeping the table equal to it (planner), sending
what is due onto the bus (dispatcher), the one store where every status change happens, and the
scheduler's clock (jobs)."""
