"""Recording from the app: the worker's recorder, one session over the shared sink, how the window shows it."""
