"""cnnbook: the code behind the book "CNNs on CIFAR-10: from math to visualization"."""

import os as _os

# Keep TensorFlow's C++ start-up chatter (oneDNN notices, CPU feature lines) out of the book.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
