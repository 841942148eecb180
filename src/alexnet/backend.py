"""Which Keras backend runs this process, and the refusal of the features
that only TensorFlow has.

The model core (:mod:`alexnet.layers`, :mod:`alexnet.model`,
:mod:`alexnet.variants`) runs on every Keras 3 backend. Two towers on two
devices, the ``tf.distribute`` strategies, SavedModel and TFLite export and
:mod:`alexnet.compat.v1` are TensorFlow programs: under another backend they
stop with one line that says so (a :class:`~alexnet.errors.UserError`).
"""

from __future__ import annotations

from alexnet.errors import UserError


def name() -> str:
    """The Keras backend of this process: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    import keras

    return keras.backend.backend()


def require_tensorflow(feature: str) -> None:
    """Refuses ``feature`` unless Keras runs on TensorFlow."""
    backend = name()
    if backend != "tensorflow":
        raise UserError(f"{feature} needs TensorFlow as the Keras backend, and this process runs on "
                        f"{backend}: run it with KERAS_BACKEND=tensorflow.")
