"""rigorml.schemas."""
