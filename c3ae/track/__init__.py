"""Stage 5, one person one age: shot cuts, tracking within a shot, face quality and age fusion per track."""
