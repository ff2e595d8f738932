"""What surrounds training: evaluation episodes, export, learning-curve reading, the quiet TensorFlow import."""
