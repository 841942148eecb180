"""A trained classifier out of Keras: SavedModel, TFLite or ONNX.

Every export takes what the Keras model takes, raw pixels 0-255 in
channels-last images of the model's size, in batches of any size, because
preprocessing is inside the model. Each is reloaded in its own runtime and
its output compared with the Keras model's (:func:`verify`).

- ``saved_model``: a TensorFlow SavedModel for TensorFlow Serving (write it
  to ``<models>/<name>/<version>``). Signature ``serving_default`` takes
  ``images`` as float32, ``serving_uint8`` the same as uint8; both return
  ``probabilities`` (batch, classes), and the ``top_k`` best of each image
  as ``top_k_scores``, ``top_k_indices`` and ``top_k_classes`` (names).
- ``tflite``: a float32 TensorFlow Lite model: ``images`` -> ``probabilities``.
- ``tflite_int8``: the same with dynamic-range quantization (weights stored
  as int8, about 4x smaller; activations stay float).
- ``onnx``: an ONNX model through Keras' exporter (tf2onnx):
  ``images`` -> ``probabilities``. Needs ``pip install "alexnet[onnx]"``, and
  ``onnxruntime`` to verify.

A model whose last layer gives logits gets a softmax added, so every export
returns probabilities.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass

import numpy as np

from alexnet.backend import require_tensorflow
from alexnet.errors import UserError, first_line

FORMATS = ("saved_model", "tflite", "tflite_int8", "onnx")
# Largest difference from the Keras model's probabilities that a float export
# may show; quantized weights are only reported (with top-1 agreement).
# Float32 round-off differs between runtimes by about 1e-6 of the logits,
# which softmax turns into ~1e-4 where logits reach hundreds (random weights).
FLOAT_TOLERANCE = 1e-3


@dataclass
class ExportResult:
    path: str
    format: str
    max_difference: float | None = None  # probabilities, largest absolute difference
    top1_agreement: float | None = None  # fraction of test images with the same best class
    images: int = 0

    @property
    def ok(self):
        if self.max_difference is None:
            return True
        return self.format == "tflite_int8" or self.max_difference <= FLOAT_TOLERANCE


def _tf():
    import tensorflow as tf

    return tf


def probability_model(model):
    """``model`` computing in float32 and ending in probabilities."""
    import keras

    from alexnet.model import float32_copy

    if len(model.inputs) != 1 or len(model.outputs) != 1 or len(model.output_shape) != 2:
        raise UserError(
            "Export needs a classifier: one image input and one (batch, classes) output; "
            f"this model's output has shape {model.output_shape}."
        )
    if len(model.input_shape) != 4 or None in model.input_shape[1:]:
        raise UserError(f"Export needs a fixed image size, got input shape {model.input_shape}.")
    if any(getattr(layer, "dtype_policy", None) is not None and layer.dtype_policy.name != "float32"
           for layer in model.layers):
        model = float32_copy(model)
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    if activation is not None and getattr(activation, "__name__", "") == "softmax":
        return model
    outputs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(model.outputs[0])
    return keras.Model(model.inputs[0], outputs, name=model.name)


def _image_spec(model, dtype="float32"):
    tf = _tf()
    return tf.TensorSpec([None, *model.input_shape[1:]], getattr(tf, dtype), name="images")


def _archive(model, *, top_k=None, class_names=None):
    """A Keras ExportArchive with the serving endpoints."""
    import keras

    tf = _tf()
    archive = keras.export.ExportArchive()
    archive.track(model)

    if top_k is None:
        def serve(images):
            return {"probabilities": model(tf.cast(images, tf.float32), training=False)}

        archive.add_endpoint("serving_default", serve, input_signature=[_image_spec(model)])
        return archive

    classes = model.output_shape[-1]
    names = list(class_names) if class_names is not None else [f"class_{i}" for i in range(classes)]
    if len(names) != classes:
        raise UserError(f"{len(names)} class names for a model with {classes} classes.")
    k = max(1, min(int(top_k), classes))

    def serve(images):
        probabilities = model(tf.cast(images, tf.float32), training=False)
        scores, indices = tf.math.top_k(probabilities, k=k)
        return {
            "probabilities": probabilities,
            "top_k_scores": scores,
            "top_k_indices": indices,
            "top_k_classes": tf.gather(tf.constant(names), indices),
        }

    archive.add_endpoint("serving_default", serve, input_signature=[_image_spec(model)])
    archive.add_endpoint("serving_uint8", serve, input_signature=[_image_spec(model, "uint8")])
    return archive


def export_saved_model(model, out, *, top_k=5, class_names=None):
    require_tensorflow("Export as a SavedModel")
    model = probability_model(model)
    _replace(out, folder=True)
    _archive(model, top_k=top_k, class_names=class_names).write_out(out, verbose=False)
    return out


def export_tflite(model, out, *, quantize=False):
    require_tensorflow("Export as TFLite")
    tf = _tf()
    model = probability_model(model)
    with tempfile.TemporaryDirectory() as folder:
        _archive(model).write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        if quantize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]  # dynamic range: int8 weights
        try:
            data = converter.convert()
        except Exception as error:
            raise UserError(f"TFLite conversion failed: {first_line(error)}") from None
    _replace(out)
    with open(out, "wb") as f:
        f.write(data)
    return out


def export_onnx(model, out, *, opset=None):
    model = probability_model(model)
    try:
        import onnx  # noqa: F401
        import tf2onnx  # noqa: F401
    except ImportError:
        raise UserError("ONNX export needs tf2onnx, onnx and onnxruntime: pip install \"alexnet[onnx]\"") from None
    _replace(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf2onnx's NumPy 2 deprecation chatter
        try:
            model.export(out, format="onnx", verbose=False, input_signature=[_image_spec(model)],
                         opset_version=opset)
        except Exception as error:
            raise UserError(f"ONNX conversion failed: {first_line(error)}") from None
    _rename_output(out, "probabilities")
    return out


def _rename_output(path, name):
    import onnx

    proto = onnx.load(path)
    graph = proto.graph
    if len(graph.output) != 1 or graph.output[0].name == name:
        return
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [name if o == old else o for o in node.output]
        node.input[:] = [name if i == old else i for i in node.input]
    graph.output[0].name = name
    onnx.save(proto, path)


def _replace(out, folder=False):
    """Makes way for a new export at ``out``: an earlier export there is
    replaced, anything else is left alone with a one-line error."""
    if os.path.isdir(out):
        if not folder:
            raise UserError(f"{out} is a folder; give a file name for this format.")
        if os.listdir(out) and not os.path.isfile(os.path.join(out, "saved_model.pb")):
            raise UserError(f"{out} exists and is not a SavedModel; choose a new or empty folder.")
        shutil.rmtree(out)
    elif os.path.exists(out):
        if folder:
            raise UserError(f"{out} is a file; a SavedModel is written to a folder.")
        os.remove(out)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)


# --- running an export in its own runtime -------------------------------------

def run_saved_model(path, images, signature=None):
    """Probabilities from a reloaded SavedModel; uint8 images go to the
    ``serving_uint8`` signature, others to ``serving_default``."""
    tf = _tf()
    loaded = tf.saved_model.load(path)
    images = np.asarray(images)
    if signature is None:
        signature = "serving_uint8" if images.dtype == np.uint8 else "serving_default"
    fn = loaded.signatures[signature]
    dtype = tf.uint8 if signature == "serving_uint8" else tf.float32
    return fn(images=tf.constant(images, dtype))["probabilities"].numpy()


def run_tflite(path, images):
    tf = _tf()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interpreter = tf.lite.Interpreter(model_path=path)
    images = np.asarray(images, np.float32)
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], images)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def run_onnx(path, images):
    try:
        import onnxruntime
    except ImportError:
        raise UserError("Checking an ONNX export needs onnxruntime: pip install \"alexnet[onnx]\" "
                        "(or skip the check with --no-check)") from None
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(["probabilities"], {name: np.asarray(images, np.float32)})[0]


def sample_images(model, count=4, seed=0):
    """``count`` random uint8 images of the model's input shape."""
    shape = model.input_shape[1:]
    return np.random.default_rng(seed).integers(0, 256, (count, *shape), dtype=np.uint8)


def verify(model, path, format, images=None):
    """Runs the export at ``path`` in its runtime on ``images`` (random
    uint8 images by default) and compares its probabilities with the Keras
    model's. Returns ``(max_difference, top1_agreement)``."""
    model = probability_model(model)
    images = sample_images(model) if images is None else np.asarray(images)
    expected = np.asarray(model(images.astype(np.float32), training=False))
    if format == "saved_model":
        outputs = [run_saved_model(path, images.astype(np.float32), "serving_default")]
        if images.dtype == np.uint8:
            outputs.append(run_saved_model(path, images, "serving_uint8"))
    elif format in ("tflite", "tflite_int8"):
        outputs = [run_tflite(path, images)]
    elif format == "onnx":
        outputs = [run_onnx(path, images)]
    else:
        raise UserError(f"Unknown export format {format!r}; choose one of {', '.join(FORMATS)}.")
    difference = max(float(np.max(np.abs(o - expected))) for o in outputs)
    agreement = min(float(np.mean(o.argmax(-1) == expected.argmax(-1))) for o in outputs)
    return difference, agreement


def export(model, out, format="saved_model", *, top_k=5, class_names=None, check=True, images=None):
    """Exports ``model`` to ``out`` in ``format`` and, with ``check``,
    reloads it and compares (:func:`verify`)."""
    out = os.fspath(out)
    if format == "saved_model":
        export_saved_model(model, out, top_k=top_k, class_names=class_names)
    elif format == "tflite":
        export_tflite(model, out)
    elif format == "tflite_int8":
        export_tflite(model, out, quantize=True)
    elif format == "onnx":
        export_onnx(model, out)
    else:
        raise UserError(f"Unknown export format {format!r}; choose one of {', '.join(FORMATS)}.")
    result = ExportResult(out, format)
    if check:
        images = sample_images(probability_model(model)) if images is None else images
        result.max_difference, result.top1_agreement = verify(model, out, format, images)
        result.images = len(images)
    return result
