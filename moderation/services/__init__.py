"""Use cases, one per function, each owning its transaction. Views and tasks call these."""
