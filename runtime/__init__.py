"""rigorml.runtime."""
