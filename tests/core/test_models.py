"""cnnbook.models: the three variants, their parameter counts, and what differs between them."""

from __future__ import annotations

import pytest
from keras import layers

from cnnbook.core.models import build_model
from cnnbook.core.names import MODEL_NAMES

# conv: 3·3·Cin·Cout (+Cout bias); dense: 2048·128 (+128), 128·10+10; BN: 4 per channel (2 trainable)
EXPECTED_PARAMS = {
    "baseline": 550_570,
    "dropout": 550_570,
    # the six convs and the hidden dense lose their biases (-576) and gain BN's 4 values per channel (+2,272)
    "batchnorm": 550_570 - 576 + 4 * (2 * 32 + 2 * 64 + 2 * 128 + 128),
}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_counts(name: str) -> None:
    assert build_model(name).count_params() == EXPECTED_PARAMS[name]


def _layer_types(name: str) -> list[str]:
    return [type(layer).__name__ for layer in build_model(name).layers]


def test_variants_differ_only_by_their_regularizer() -> None:
    base = _layer_types("baseline")
    assert [t for t in _layer_types("dropout") if t != "Dropout"] == base
    assert [
        t for t in _layer_types("batchnorm") if not t.endswith("BatchNormalization")
    ] == base
    assert _layer_types("dropout").count("Dropout") == 2
    types = _layer_types("batchnorm")
    assert (
        types.count("FusedBatchNormalization") == 6
        and types.count("BatchNormalization") == 1
    )  # 6 conv + dense


def test_dropout_rate_and_batchnorm_bias() -> None:
    assert {
        x.rate for x in build_model("dropout").layers if isinstance(x, layers.Dropout)
    } == {0.5}
    bn_model = build_model("batchnorm")
    assert not any(
        x.use_bias for x in bn_model.layers if isinstance(x, (layers.Conv2D,))
    )
    assert bn_model.get_layer("logits").use_bias


def test_seeded_builds_are_identical() -> None:
    a, b = build_model("baseline", seed=3), build_model("baseline", seed=3)
    assert all((x == y).all() for x, y in zip(a.get_weights(), b.get_weights()))


def test_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        build_model("resnet")
