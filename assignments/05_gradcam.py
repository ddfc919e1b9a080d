# %% [raw]
# # ASSIGNMENT CONFIG
# name: 05_gradcam
# init_cell: true
# check_all_cell: false
# export_cell: false
# generate: true
# tests:
#   files: true

# %% [markdown]
# # Assignment 5 — Grad-CAM and its sanity check
#
# Chapter *Visualization*. Grad-CAM (Selvaraju et al. 2017) for class $c$ and the feature maps $A^k$
# of a convolutional layer: $\alpha_k^c = \mathrm{mean}_{i,j}\, \partial y^c / \partial A^k_{ij}$ and
# $L^c = \mathrm{ReLU}(\sum_k \alpha_k^c A^k)$, with $y^c$ the score **before** the softmax (the book's
# models name that layer `logits`). Then the model-randomization test of Adebayo et al. (2018): a
# faithful map must change when the weights are re-initialized. Estimated time: 2 hours.

# %%
import numpy as np
from cnnbook.core.backend import keras, tf
from cnnbook.core.names import LOGITS_LAYER
from cnnbook.lessons.gradcam import last_conv_layer_name, randomize_weights

# %% [raw]
# # BEGIN QUESTION
# name: q1_grad_cam
# points: [1, 3]

# %% [markdown]
# **Question 1 (4 points).** `grad_cam(model, images, class_index=None, layer_name=None)` returns
# heatmaps `(N, h, w)` divided by their maximum (an all-zero map stays 0). `class_index=None` means
# the predicted class; `layer_name=None` means `last_conv_layer_name(model)`. Use `tf.GradientTape`
# on a model that outputs the feature maps and the logits, in inference mode.

# %% [raw]
# # BEGIN SOLUTION

# %%
def grad_cam(model: keras.Model, images: np.ndarray, class_index: int | None = None,
             layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heatmaps in [0, 1] for the predicted (or given) class."""
    # BEGIN SOLUTION
    layer_name = layer_name or last_conv_layer_name(model)
    probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.get_layer(LOGITS_LAYER).output])
    x = tf.convert_to_tensor(np.asarray(images), dtype=model.inputs[0].dtype)
    with tf.GradientTape() as tape:
        features, scores = probe(x, training=False)
        if class_index is None:
            classes = tf.argmax(scores, axis=1, output_type=tf.int32)
        else:
            classes = tf.fill([len(images)], tf.constant(class_index, tf.int32))
        target = tf.reduce_sum(tf.gather(scores, classes, axis=1, batch_dims=1))
    grads = np.asarray(tape.gradient(target, features), dtype=np.float64)
    feats = np.asarray(features, dtype=np.float64)
    cam = np.maximum(np.einsum("nhwk,nk->nhw", feats, grads.mean(axis=(1, 2))), 0.0)
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
from cnnbook.core.models import build_model
_maps = grad_cam(build_model("baseline", seed=0), np.zeros((2, 32, 32, 3), dtype=np.uint8) + 100)
assert np.shape(_maps) == (2, 8, 8) and np.nanmax(_maps) <= 1.0

# %%
# HIDDEN
import numpy as np
from cnnbook.core.backend import keras
from cnnbook.grading.checks import compare
from cnnbook.lessons import gradcam as _ref
keras.utils.set_random_seed(3)
_inputs = keras.Input((12, 12, 3))
_x = keras.layers.Activation("relu", name="c1_relu")(keras.layers.Conv2D(4, 3, padding="same", name="c1")(_inputs))
_x = keras.layers.Activation("relu", name="c2_relu")(keras.layers.Conv2D(6, 3, padding="same", name="c2")(_x))
_x = keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(_x))
_x = keras.layers.Dense(5, name="logits")(_x)
_model = keras.Model(_inputs, keras.layers.Activation("softmax", name="probabilities")(_x))
_images = np.random.default_rng(4).normal(size=(6, 12, 12, 3)).astype("float32")
compare(grad_cam, _ref.grad_cam, [((_model, _images), {}), ((_model, _images), dict(class_index=2)),
                                  ((_model, _images[:1]), dict(class_index=4, layer_name="c1_relu"))],
        rtol=1e-4, atol=1e-5)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2_correlation
# points: [1, 2]

# %% [markdown]
# **Question 2 (3 points).** `heatmap_correlation(a, b)`: the Pearson correlation between paired
# heatmaps `(N, h, w)`, one number per pair; `NaN` where a map is constant.

# %% [raw]
# # BEGIN SOLUTION

# %%
def heatmap_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation per pair of maps; NaN where either map is constant."""
    # BEGIN SOLUTION
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (a * b).sum(axis=1) / norm, np.nan)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
_a = np.arange(4.0).reshape(1, 2, 2)
assert np.allclose(heatmap_correlation(_a, 2 * _a + 1), 1.0)

# %%
# HIDDEN
import numpy as np
from cnnbook.grading.checks import compare
from cnnbook.lessons import gradcam as _ref
_rng = np.random.default_rng(5)
_a, _b = _rng.uniform(size=(5, 4, 4)), _rng.uniform(size=(5, 4, 4))
_b[1] = 0.5 * _a[1] + 0.1
_b[2] = 0.0
compare(heatmap_correlation, _ref.heatmap_correlation, [((_a, _b), {}), ((_a[:1] + 3.0, _a[:1]), {})])

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3_randomization
# points: [1, 2]

# %% [markdown]
# **Question 3 (3 points).** `randomization_check(model, images, seed=0)` returns, per image, the
# correlation between the Grad-CAM map of the model and that of `randomize_weights(model, seed)` (a
# copy with freshly initialized weights). Use your `grad_cam` and `heatmap_correlation`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def randomization_check(model: keras.Model, images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Correlation of each image's map between the trained and a re-initialized model."""
    # BEGIN SOLUTION
    random_model = randomize_weights(model, seed)
    return heatmap_correlation(grad_cam(model, images), grad_cam(random_model, images))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
from cnnbook.core.models import build_model
assert np.shape(randomization_check(build_model("baseline", seed=0), np.full((2, 32, 32, 3), 90, np.uint8))) == (2,)

# %%
# HIDDEN
import numpy as np
from cnnbook.core.backend import keras
from cnnbook.grading.checks import assert_close, reference_in
from cnnbook.lessons import gradcam as _ref
keras.utils.set_random_seed(6)
_inputs = keras.Input((10, 10, 3))
_x = keras.layers.Activation("relu", name="c_relu")(keras.layers.Conv2D(5, 3, padding="same", name="c")(_inputs))
_x = keras.layers.Dense(4, name="logits")(keras.layers.Flatten()(_x))
_model = keras.Model(_inputs, keras.layers.Activation("softmax", name="probabilities")(_x))
_images = np.random.default_rng(7).normal(size=(4, 10, 10, 3)).astype("float32")
_expected = _ref.heatmap_correlation(_ref.grad_cam(_model, _images), _ref.grad_cam(_ref.randomize_weights(_model, 1), _images))
with reference_in(randomization_check, grad_cam=_ref.grad_cam, heatmap_correlation=_ref.heatmap_correlation):
    assert_close(randomization_check(_model, _images, seed=1), _expected, "randomization_check(seed=1)", rtol=1e-4, atol=1e-5)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## On the book's trained model (not graded)
#
# Load the trained baseline from `best_models/` and run the sanity check on a few test images (set
# `CIFAR10_DIR`). Correlations near 1 would mean the maps do not depend on what the model learned.
# The autograder skips this cell.

# %% tags=["otter_ignore"]
from cnnbook.core.store import load_trained
from cnnbook.book.pages import book_data

_trained = load_trained("baseline")
_correlations = randomization_check(_trained, book_data().x_test[:16])
print(f"trained vs randomized maps: mean correlation {np.nanmean(_correlations):.2f}")
