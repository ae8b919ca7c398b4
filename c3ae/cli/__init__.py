"""The headless command: `main.py annotate` for one input (one_input) or many (batch)."""
