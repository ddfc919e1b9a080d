"""airbench94 (Jordan 2024, KellerJordan/cifar10-airbench) ported to Keras 3: the book's fourth model
(chapter "Putting it all together"), read top to bottom like the original's one file: ``hyp`` (every
number), ``net`` (the network and its whitening), ``augment`` (training and test-time augmentation),
``train`` (the step, PyTorch's Nesterov SGD, the lookahead; a session of cnnbook.core.engine)."""
