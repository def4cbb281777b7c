"""rigorml.templates."""
