"""Stage 6, report: everything drawn for a person or a tool (diagnostics in every format,
decisions and traces, batch summaries, the diff report). rich and matplotlib are imported
only here."""
