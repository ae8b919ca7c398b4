"""C3AE age estimation: model, crops, detection, inference engine, training."""
