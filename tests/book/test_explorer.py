"""cnnbook.book.explorer: every model of the book exports, the weights file is the TF.js format's,
the exported affine maps equal Keras's layers, and a model it cannot run is named, not exported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnbook.airbench.net import build_fast_model, set_whitening
from cnnbook.book import explorer
from cnnbook.book.words import latin_words
from cnnbook.core.backend import keras
from cnnbook.core.models import build_model

OPERATIONS = {
    "scale",
    "affine",
    "conv2d",
    "maxpool",
    "globalmaxpool",
    "flatten",
    "dense",
    "activation",
}


def small_fast(seed: int = 0) -> keras.Model:
    """airbench's network, narrow, its whitening computed from random images."""
    model = build_fast_model("fast", seed=seed, widths=(8, 16, 16))
    set_whitening(model, np.random.default_rng(seed).integers(0, 256, (64, 32, 32, 3)))
    return model


@pytest.fixture(scope="module", params=["baseline", "dropout", "batchnorm", "fast"])
def model(request) -> keras.Model:
    if request.param == "fast":
        return small_fast()
    return build_model(request.param, seed=1)


def read_weights(folder, name) -> dict[str, np.ndarray]:
    """The weights back from <name>.json's manifest and <name>.weights.bin, as TF.js reads them."""
    spec = json.loads((folder / f"{name}.json").read_text())
    (group,) = spec["weightsManifest"]
    data = (folder / group["paths"][0]).read_bytes()
    out, offset = {}, 0
    for w in group["weights"]:
        n = int(np.prod(w["shape"])) * 4
        out[w["name"]] = np.frombuffer(data[offset : offset + n], "<f4").reshape(
            w["shape"]
        )
        offset += n
    assert offset == len(data)  # nothing left over
    return out


def test_every_model_exports_to_known_operations(model, tmp_path) -> None:
    spec, weights = explorer.model_spec(model, temperature=1.5)
    assert {layer["op"] for layer in spec["layers"]} <= OPERATIONS
    names = [layer["name"] for layer in spec["layers"]]
    assert "logits" == names[-1] and not any("dropout" in n for n in names)
    assert spec["gradcam_layer"] in names and set(spec["maps"]) <= set(names)
    explorer.write_model(tmp_path, model.name, spec, weights)
    back = read_weights(tmp_path, model.name)
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            np.testing.assert_array_equal(
                back[f"{layer.name}/kernel"], layer.kernel.numpy()
            )


def test_affine_equals_the_keras_layers_at_inference() -> None:
    model = build_model("batchnorm", seed=2)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.moving_mean.assign(rng.normal(size=c))
            layer.moving_variance.assign(rng.uniform(0.1, 3, size=c))
            layer.gamma.assign(rng.normal(size=c))
            layer.beta.assign(rng.normal(size=c))
    _, weights = explorer.model_spec(model, 1.0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            x = rng.normal(size=(4, *layer.input.shape[1:])).astype("float32")
            mine = x * weights[f"{layer.name}/scale"] + weights[f"{layer.name}/shift"]
            np.testing.assert_allclose(mine, layer(x, training=False), atol=1e-5)
    fast = small_fast()
    norm = fast.get_layer("normalize")
    _, weights = explorer.model_spec(fast, 1.0)
    x = rng.uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    mine = x * weights["normalize/scale"] + weights["normalize/shift"]
    np.testing.assert_allclose(mine, norm(x), atol=1e-5)


def test_a_layer_it_cannot_run_is_named() -> None:
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.AveragePooling2D(2, name="blur")(inputs)
    x = keras.layers.Flatten()(x)
    logits = keras.layers.Dense(10, name="logits")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    with pytest.raises(explorer.ExportError, match="'blur' .AveragePooling2D"):
        explorer.model_spec(model, 1.0)


def test_a_network_that_is_not_a_chain_is_refused() -> None:
    inputs = keras.Input((8,))
    a = keras.layers.Dense(8)(inputs)
    x = keras.layers.Add()([inputs, a])
    logits = keras.layers.Dense(10, name="logits")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    with pytest.raises(explorer.ExportError, match="not in a chain"):
        explorer.model_spec(model, 1.0)


def test_images_per_class_start_with_the_chapter_mistakes() -> None:
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 1, 2, 2, 2])
    chosen = explorer.choose_images(labels, mistakes=[6, 9], per_class=2)
    assert chosen.tolist() == [6, 0, 1, 3, 9, 8]


def test_every_word_of_the_page_is_translated() -> None:
    words = explorer.page_words(["cat", "dog"])
    assert set(words) == {"en", "ru"} and set(words["en"]) == set(words["ru"])
    assert all(words["en"][w] == w for w in words["en"])
    assert not [w for w in words["ru"].values() if latin_words(w.replace("{}", ""))]


def test_the_command_line_says_what_went_wrong(monkeypatch, capsys, tmp_path) -> None:
    def broken(out, reference_dir=None):
        raise explorer.ExportError(
            "layer 'blur' (AveragePooling2D) is not one the explorer runs"
        )

    monkeypatch.setattr(explorer, "export", broken)
    assert explorer.main([str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "explorer export: layer 'blur' (AveragePooling2D) is not one the explorer runs"
    ]
