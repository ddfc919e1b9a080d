"""Layers the models need beyond stock Keras (chapter "Regularization": what BatchNorm costs).

``FusedBatchNormalization`` is ``keras.layers.BatchNormalization`` with the same weights, options
and results, whose channels-last 4-D call runs TensorFlow's fused batch-norm kernel
(FusedBatchNormV3, one op forwards and one backwards, oneDNN on a CPU). Keras 3's own layer casts
a bfloat16 input to float32, computes the mean and variance, normalizes and casts back as separate
operations, forwards and backwards; on a CPU those passes over every value cost far more than the
arithmetic (benchmarks/bench_batchnorm.py measures both layers against the baseline). Other inputs
(2-D, masks, renorm) use the stock code path unchanged.
"""

from __future__ import annotations

from cnnbook.core.backend import keras, tf


@keras.saving.register_keras_serializable(package="cnnbook")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization whose 4-D channels-last call uses TF's fused kernel."""

    def _fusable(self, inputs, mask) -> bool:
        """Whether this call can use the fused kernel (the same math as the stock layer)."""
        axis = self.axis if isinstance(self.axis, int) else self.axis[0]
        return (
            mask is None
            and not self.renorm
            and not self.synchronized
            and len(inputs.shape) == 4
            and axis in (-1, 3)
        )

    def call(self, inputs, training=None, mask=None):
        """Normalize with the batch's statistics (training) or the moving ones (inference)."""
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        channels = inputs.shape[-1]
        scale = self.gamma if self.scale else tf.ones((channels,), "float32")
        offset = self.beta if self.center else tf.zeros((channels,), "float32")
        x = tf.cast(inputs, "bfloat16" if inputs.dtype == tf.bfloat16 else "float32")
        if training and self.trainable:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x,
                tf.cast(scale, "float32"),
                tf.cast(offset, "float32"),
                epsilon=self.epsilon,
                data_format="NHWC",
                is_training=True,
            )
            count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), "float32")
            variance = (
                variance * (count - 1.0) / count
            )  # the kernel returns the unbiased one
            self.moving_mean.assign(
                self.moving_mean * self.momentum + mean * (1.0 - self.momentum)
            )
            self.moving_variance.assign(
                self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
            )
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x,
                tf.cast(scale, "float32"),
                tf.cast(offset, "float32"),
                mean=tf.cast(self.moving_mean, "float32"),
                variance=tf.cast(self.moving_variance, "float32"),
                epsilon=self.epsilon,
                data_format="NHWC",
                is_training=False,
            )
        return tf.cast(y, self.compute_dtype)


@keras.saving.register_keras_serializable(package="cnnbook")
def gelu(x):
    """GELU with the tanh approximation (the fast model; within 0.001 of x * Phi(x), and cheaper
    than the exact erf on a CPU)."""
    return keras.activations.gelu(x, approximate=True)
