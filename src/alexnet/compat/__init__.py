"""The exercise's old API: AlexNet as a ``tf.compat.v1`` graph."""
