"""rigorml.compiler."""
