"""Operations: flag new unsafe poses (with provenance), notify the orchestrator, detect what changed."""
