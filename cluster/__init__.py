"""Quarry's control plane: configuration, CLI, job manager, planning, catalog, metrics."""
