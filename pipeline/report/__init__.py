"""The report stage: ranked, explained shortlists per school."""
