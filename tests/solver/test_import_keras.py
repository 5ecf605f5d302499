"""Importing Keras models (issue #17): a model's JSON (functional or Sequential) imports
into the tensorflow convention and agrees with Keras, layer by layer, at several input
sizes, sizes Keras refuses included.  Keras runs in tf_ref's worker process."""

from __future__ import annotations

from typing import Any

import conformance
import pytest
import tf_ref

import solver
from solver.services.importers import ImportRefused, from_keras

FUNCTIONAL = """
import keras
def build():
    i = keras.Input((None, None, 3))
    a = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="enc")(i)
    b = keras.layers.MaxPooling2D(2, name="pool")(a)
    c = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="down")(b)
    d = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", name="up")(c)
    e = keras.layers.Conv2DTranspose(8, 2, strides=2, name="up2")(d)
    f = keras.layers.Concatenate(name="skip")([a, e])
    g = keras.layers.BatchNormalization(name="bn")(f)
    h = keras.layers.Add(name="sum")([g, keras.layers.Conv2D(16, 1, name="proj")(f)])
    return keras.Model(i, keras.layers.UpSampling2D(2, interpolation="bilinear", name="out")(h))
"""
SEQUENTIAL = """
import keras
def build():
    return keras.Sequential([keras.Input((None, 2)), keras.layers.Conv1D(4, 5, strides=2, name="c"),
                             keras.layers.ReLU(name="r"), keras.layers.AveragePooling1D(3, padding="same", name="p"),
                             keras.layers.UpSampling1D(3, name="u"), keras.layers.Conv1D(2, 3, dilation_rate=2, name="d")])
"""

HEAD = """
import keras
def build():
    i = keras.Input((12, 12, 3))
    a = keras.layers.Conv2D(8, 3, name="c")(i)
    b = keras.layers.GroupNormalization(groups=2, name="gn")(keras.layers.BatchNormalization(name="bn")(a))
    c = keras.layers.MaxPooling2D(2, name="p")(keras.layers.LayerNormalization(name="ln")(b))
    d = keras.layers.Dense(4, name="fc1")(keras.layers.Flatten(name="flat")(c))
    e = keras.layers.Dense(3, name="fc2")(keras.layers.GlobalAveragePooling2D(name="gap")(c))
    return keras.Model(i, keras.layers.Concatenate(name="both")([d, e]))
"""


@pytest.mark.parametrize(("code", "channels", "sizes"), [
    (FUNCTIONAL, 3, [[32, 32], [36, 20], [34, 34], [8, 8], [5, 6], [2, 2]]),
    (SEQUENTIAL, 2, [[40], [41], [17], [9], [4]]),
    (HEAD, 3, [[12, 12], [16, 16], [12, 14], [10, 10]]),  # (13 x 13: Keras refuses any size but its Input's)
], ids=["functional", "sequential", "head"])
def test_a_keras_model_imports_and_agrees_with_keras(code: str, channels: int, sizes: list[list[int]]) -> None:
    text, expected = tf_ref.model_json(code, "build", [(*size, channels) for size in sizes])
    imported = from_keras(text, sizes[0])
    assert imported.traced_with == "keras" and imported.document["convention"] == "tensorflow"
    # A global pool without keepdims is a pool to 1 and a flatten: the pool is the importer's own.
    pools = {layer["name"]: [1] * len(sizes[0]) for layer in imported.document["layers"]
             if layer["name"].endswith("_pool") and layer["type"].startswith("adaptive")}
    ran = [conformance.agrees_layer_by_layer(imported.document, size, None if found is None else found | pools, "Keras")
           for size, found in zip(sizes, expected, strict=True)]
    assert any(ran)


def test_folded_layers_and_activations_are_named() -> None:
    text, _ = tf_ref.model_json(FUNCTIONAL, "build", [])
    imported = from_keras(text, [32, 32])
    assert imported.folded == ["enc.activation"]  # the norm bn is a layer: it has parameters
    joined = {layer["name"]: layer for layer in imported.document["layers"] if "inputs" in layer}
    assert joined["skip"]["inputs"] == ["enc", "up2"] and joined["sum"]["inputs"] == ["bn", "proj"]


@pytest.mark.parametrize(("config", "words"), [
    ({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 8, 8, 1]}},
        {"class_name": "Cropping2D", "config": {"name": "crop"}}]}}, r"crop \(Cropping2D\): convsolve does not state"),
    ({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 8, 8, 1]}},
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 1, "kernel_size": [3, 3],
                                            "data_format": "channels_first"}}]}}, "channels_first"),
])
def test_what_convsolve_cannot_state_stops_the_import(config: dict[str, Any], words: str) -> None:
    with pytest.raises(ImportRefused, match=words):
        from_keras(config)
    with pytest.raises(solver.DocumentError, match="not a Keras model's JSON"):
        from_keras("{not json")


def test_the_rest_route_and_the_cli_import_the_same_model(tmp_path: Any) -> None:
    import json

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from api.main import app as api_app
    from solver.cli import app

    text, _ = tf_ref.model_json(FUNCTIONAL, "build", [])
    expected = from_keras(text, [48, 40]).model_dump(mode="json")
    served = TestClient(api_app).post("/v1/import/keras", json={"model": json.loads(text), "input_size": [48, 40]})
    assert served.status_code == 200 and served.json() == expected
    refused = TestClient(api_app).post("/v1/import/keras", json={"model": {"layers": []}})
    assert refused.status_code == 422 and "it has no layers" in refused.text
    path = tmp_path / "model.json"
    path.write_text(text)
    result = CliRunner().invoke(app, ["import", str(path), "--input-size", "48,40", "-o", str(tmp_path / "d.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "d.json").read_text()) == expected["document"]


def _json_values() -> Any:
    from hypothesis import strategies as st

    leaves = st.none() | st.booleans() | st.integers(-3, 70) | st.sampled_from(
        ["same", "valid", "Conv2D", "InputLayer", "MaxPooling2D", "Concatenate", "channels_first", "x"])
    keys = st.sampled_from(["class_name", "config", "layers", "name", "batch_shape", "kernel_size", "strides",
                            "filters", "padding", "pool_size", "inbound_nodes", "args", "keras_history", "axis",
                            "size", "data_format", "activation"])
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
                        max_leaves=30)


def test_any_json_is_imported_or_refused_in_convsolve_s_words() -> None:
    """No config, however malformed, raises anything but convsolve's own errors."""
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_json_values())
    def check(config: Any) -> None:
        try:
            from_keras(config if isinstance(config, dict) else {"config": {"layers": config}})
        except solver.ConvsolveError:
            pass

    check()


def test_keras_2_configs_import_too() -> None:
    """tf.keras (Keras 2) writes inbound_nodes as [[[layer, node, tensor, kwargs], ...]]."""
    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_input_shape": [None, 16, 16, 3]},
         "inbound_nodes": []},
        {"class_name": "Conv2D", "name": "a", "config": {"name": "a", "filters": 4, "kernel_size": [3, 3],
                                                         "padding": "same"}, "inbound_nodes": [[["x", 0, 0, {}]]]},
        {"class_name": "Conv2D", "name": "b", "config": {"name": "b", "filters": 4, "kernel_size": [1, 1]},
         "inbound_nodes": [[["x", 0, 0, {}]]]},
        {"class_name": "Concatenate", "name": "cat", "config": {"name": "cat", "axis": -1},
         "inbound_nodes": [[["a", 0, 0, {}], ["b", 0, 0, {}]]]}]}}
    imported = from_keras(config, [8])
    assert imported.document["input_size"] == [8, 8]  # one size for every axis
    assert imported.document["layers"][-1]["inputs"] == ["a", "b"]
    assert solver.forward(imported.document).output_size == [8, 8]


def test_upsampling_and_resizing_read_as_keras_writes_them() -> None:
    """UpSampling2D's default size (an int: every axis), a size per axis, and Resizing."""
    config = {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [1, 8, 8, 2], "name": "x"}},
        {"class_name": "UpSampling2D", "config": {"name": "u"}},
        {"class_name": "UpSampling2D", "config": {"name": "v", "size": [2, 3], "interpolation": "bilinear"}},
        {"class_name": "Resizing", "config": {"name": "r", "height": 5, "width": 7}},
        {"class_name": "UpSampling2D", "config": {"name": "w", "interpolation": "lanczos3"}}]}}
    with pytest.raises(ImportRefused, match=r"w \(UpSampling2D\): mode 'lanczos3' is not stated"):
        from_keras(config)
    config["config"]["layers"].pop()
    report = solver.forward(from_keras(config).document)
    assert [r.output_size for r in report.layers] == [[16, 16], [32, 48], [5, 7]]
