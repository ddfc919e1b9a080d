"""cnnbook: the code behind the book "CNNs on CIFAR-10: from math to visualization".

Three layers, each a folder, with dependencies pointing one way (checked by `lint-imports`):

* ``cnnbook.core``    - data, models, the store of trained models, metrics, training, the CLI;
* ``cnnbook.lessons`` - the from-scratch math the chapters teach (NumPy first);
* ``cnnbook.book``    - what the pages need: data and models loaded once, figures, notebooks.

Importing the package imports nothing heavy: TensorFlow is imported, quietly, by
``cnnbook.core.backend`` only when a module that needs it is imported.
"""

__version__ = "0.1.0"
