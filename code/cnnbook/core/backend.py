"""The one place TensorFlow is imported: quietly, with Keras on its TensorFlow backend, running one
op at a time (all chapters).

TF 2.21 writes oneDNN and CUDA notices to file descriptor 2 before its log level applies; in the book
any stderr fails the build. Every module that needs TensorFlow or Keras imports them from here:
``from cnnbook.core.backend import keras, tf``.

One op at a time (inter-op parallelism 1, each op still on every core): with two ops in flight, a
multi-core CPU ran airbench's training step in a different order from run to run, and two identical
fast_short runs ended with different weights (up to 1e-5 apart after 8 steps on random images);
one at a time they are bit-identical (tests/core/test_faults.py). An ad-hoc timing (not a
benchmark) of fast_short's step found no difference beyond its run-to-run noise of about 10%.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with fd 2 silenced; replay what it wrote if the import fails."""
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow

            tensorflow.config.list_physical_devices()  # the CUDA probe logs here; do it while silenced
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            os.write(2, captured.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_import_tensorflow_quietly()

import keras  # noqa: E402  (after the quiet import above)
import tensorflow as tf  # noqa: E402

# TensorFlow's Python-side warnings (e.g. "triggered tf.function retracing" when a page probes
# several models in a row) are advice for performance tuning, not results: errors still show.
tf.get_logger().setLevel("ERROR")
tf.config.threading.set_inter_op_parallelism_threads(
    1
)  # before any op runs: see the docstring

__all__ = ["keras", "tf"]
