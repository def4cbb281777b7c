"""rigorml.rules."""
