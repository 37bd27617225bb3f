"""Sales reports over the edge ledger (read-only SQL): see :mod:`edge.reports.sales`."""
