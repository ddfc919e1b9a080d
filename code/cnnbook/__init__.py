"""cnnbook: the code behind the book "CNNs on CIFAR-10: from math to visualization"."""

import os as _os
import tempfile as _tempfile

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with file descriptor 2 silenced: TF 2.21 writes oneDNN and CUDA notices there
    before its log level applies. They are replayed if the import fails, so real errors stay visible."""
    with _tempfile.TemporaryFile() as captured:
        saved = _os.dup(2)
        _os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe logs here; do it while silenced
        except BaseException:
            _os.dup2(saved, 2)
            captured.seek(0)
            _os.write(2, captured.read())
            raise
        finally:
            _os.dup2(saved, 2)
            _os.close(saved)


_import_tensorflow_quietly()
