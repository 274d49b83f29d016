"""Strategy components — signals, filters, guards, exits — plus their catalogue and plumbing."""
