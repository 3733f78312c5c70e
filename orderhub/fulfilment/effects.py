"""Transition effects owned by fulfilment (run inside the transition's transaction)."""
