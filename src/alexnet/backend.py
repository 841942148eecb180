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


def version() -> str:
    """The backend and its version, e.g. ``"jax 0.10.2"`` (the precision
    probe's cache tells measurements on different backends apart)."""
    backend = name()
    module = __import__({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend, backend))
    return f"{backend} {getattr(module, '__version__', '?')}"


def has_gpu() -> bool:
    """Whether the backend sees a GPU (JAX: a ``gpu`` device; PyTorch: CUDA)."""
    backend = name()
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


def make_deterministic() -> None:
    """Deterministic kernels for ``--deterministic``: TensorFlow's op
    determinism (the tf.data input pipeline runs on TensorFlow under every
    backend) and, under PyTorch, its deterministic algorithms. JAX on a CPU
    is deterministic already."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    if name() == "torch":
        import torch

        torch.use_deterministic_algorithms(True)


def out_of_memory_errors() -> tuple:
    """The exceptions a training step raises when memory runs out."""
    import tensorflow as tf

    errors = [tf.errors.ResourceExhaustedError, MemoryError]
    if name() == "torch":
        import torch

        errors.append(torch.OutOfMemoryError)
    return tuple(errors)
