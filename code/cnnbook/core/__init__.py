"""Core: CIFAR-10 data, the models, the store of trained models, metrics, training and the CLI."""
