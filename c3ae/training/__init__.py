"""Training, evaluation and export of C3AE: nothing in the live app imports this package."""
