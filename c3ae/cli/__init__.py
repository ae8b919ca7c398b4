"""The headless command: `main.py annotate` for one input (one_file) or many (batch)."""
