"""The backend imports TensorFlow quietly and keeps its Python warnings out of the book."""

from __future__ import annotations

import logging
import subprocess
import sys


def test_tensorflow_python_warnings_are_silenced_but_errors_pass():
    from cnnbook.core.backend import tf

    logger = tf.get_logger()
    assert logger.getEffectiveLevel() == logging.ERROR
    assert not logger.isEnabledFor(logging.WARNING) and logger.isEnabledFor(
        logging.ERROR
    )


def test_importing_the_backend_writes_nothing_to_stderr():
    result = subprocess.run(
        [sys.executable, "-c", "import cnnbook.core.backend"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stderr == ""
