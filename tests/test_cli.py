"""The command-line front door: `convsolve forward FILE [--json]`, through typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import solver
from solver.cli import ExitCode, app

# Plain, deterministic output whatever the terminal or CI sets: no colour, a fixed width.
runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": None, "COLUMNS": "160"})

# ResNet-50 stem.  conv1: floor((224 + 2*3 - 7)/2) + 1 = 112, 64*3*7*7 = 9408 weights (no bias),
# 112*112*64*147 = 118,013,952 MACs.  pool1: floor((112 + 2*1 - 3)/2) + 1 = 56; receptive field
# 1 + 6 = 7 then 7 + 2*2 = 11.
STEM: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "examples" / "resnet_stem.yaml").read_text())
# The same stem with pool1's padding 2 > floor(3/2): torch.nn.MaxPool2d(3, 2, padding=2) refuses it.
REJECTED: dict[str, Any] = {**STEM, "layers": [STEM["layers"][0], {**STEM["layers"][1], "padding": 2}]}


def _write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc) if name.endswith(".yaml") else json.dumps(doc))
    return path


@pytest.fixture(params=["yaml", "json", "stdin-yaml", "stdin-json"])
def invoke_with(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Any]:
    """Run `convsolve forward <document> [args]`, the document given as a file or on stdin."""
    kind = request.param

    def invoke(doc: dict[str, Any], *args: str) -> Any:
        if kind.startswith("stdin"):
            text = yaml.safe_dump(doc) if kind == "stdin-yaml" else json.dumps(doc)
            return runner.invoke(app, ["forward", "-", *args], input=text)
        return runner.invoke(app, ["forward", str(_write(tmp_path, f"doc.{kind}", doc)), *args])

    return invoke


def test_table_shows_the_sizes(invoke_with: Callable[..., Any]) -> None:
    result = invoke_with(STEM)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    conv1 = next(line for line in lines if "conv1 (conv)" in line)
    pool1 = next(line for line in lines if "pool1 (max_pool)" in line)
    for cell in ("112 x 112", "64", "9,408", "118,013,952", "7 x 7", "2 x 2"):
        assert cell in conv1
    for cell in ("56 x 56", "11 x 11", "4 x 4"):
        assert cell in pool1
    assert "output 56 x 56 x 64 channels, 9,408 parameters, 118,013,952 MACs" in result.stdout


def test_table_matches_golden(tmp_path: Path, golden: Callable[[str, str], None]) -> None:
    result = runner.invoke(app, ["forward", str(_write(tmp_path, "stem.yaml", STEM))])
    assert result.exit_code == 0, result.output
    golden("forward_resnet_stem.txt", result.stdout)


def test_json_equals_library_output(invoke_with: Callable[..., Any]) -> None:
    result = invoke_with(STEM, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer == solver.forward(STEM).model_dump(mode="json")
    assert (answer["output_size"], answer["out_channels"], answer["params"]) == ([56, 56], 64, 9408)
    assert [layer["output_size"] for layer in answer["layers"]] == [[112, 112], [56, 56]]


def test_rejected_layer_is_a_clear_error(invoke_with: Callable[..., Any]) -> None:
    result = invoke_with(REJECTED)
    assert result.exit_code == ExitCode.DOCUMENT == 3, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: layer 1 'pool1' (max_pool), axis 0: padding 2")
    assert "Traceback" not in result.output


def test_rejected_layer_with_json_flag_is_the_same_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["forward", str(_write(tmp_path, "bad.json", REJECTED)), "--json"])
    assert result.exit_code == ExitCode.DOCUMENT == 3, result.output
    assert result.stdout == ""
    assert "layer 1 'pool1'" in result.stderr


def _bytes_file(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "doc.yaml"
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        pytest.param(lambda tmp: [str(tmp / "missing.yaml")], "cannot read", id="missing-file"),
        pytest.param(lambda tmp: [str(tmp)], "cannot read", id="directory"),
        pytest.param(lambda tmp: [_bytes_file(tmp, b"\xff\xfe{")], "not UTF-8", id="not-utf8"),
        pytest.param(lambda tmp: [_bytes_file(tmp, b"input_size: [1, 2")], "neither JSON nor YAML",
                     id="broken-yaml"),
        pytest.param(lambda tmp: [_bytes_file(tmp, b"[" * 5000)], "nested too deeply", id="deep-nesting"),
        pytest.param(lambda tmp: [_bytes_file(tmp, b"")], "document", id="empty"),
        pytest.param(lambda tmp: [_bytes_file(tmp, b"input_size: [32]\nlayers: [{type: dense}]\n")],
                     "layers.0", id="unknown-type"),
        pytest.param(lambda tmp: [_bytes_file(tmp, b"input_size: [32]\nlayers: [{type: conv, kernel_size: true}]\n")],
                     "layers.0.kernel_size", id="bool-kernel"),
        pytest.param(lambda tmp: [_bytes_file(tmp, b"input_size: [32]\nlayers: [{type: conv, kernel_size: {min: 1, max: 3}}]\n")],
                     "a domain is only allowed in a solve document", id="domain-in-forward"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, make_args: Callable[[Path], list[str]], message: str
) -> None:
    result = runner.invoke(app, ["forward", *make_args(tmp_path)])
    assert result.exit_code == ExitCode.DOCUMENT == 3, result.output
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_export_writes_code_that_runs(tmp_path: Path) -> None:
    import torch
    import torch_ref

    doc = tmp_path / "stem.yaml"
    doc.write_text(
        "input_size: [64, 64]\nin_channels: 3\nlayers:\n"
        "  - {name: conv1, type: conv, kernel_size: 7, stride: 2, padding: 3, out_channels: 8}\n"
        "  - {name: pool1, type: max_pool, kernel_size: 3, stride: 2, padding: 1}\n")
    out = tmp_path / "net.py"
    result = runner.invoke(app, ["export", str(doc), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert list(torch_ref.exported(out.read_text())(torch.zeros(1, 3, 64, 64)).shape) == [1, 8, 16, 16]


def test_solve_export_writes_the_best_solution(tmp_path: Path) -> None:
    import torch
    import torch_ref

    out = tmp_path / "best.py"
    example = Path(__file__).parent.parent / "examples" / "single_layer.yaml"
    result = runner.invoke(app, ["solve", str(example), "--export", str(out)])
    assert result.exit_code == 0, result.output
    assert list(torch_ref.exported(out.read_text())(torch.zeros(1, 1, 224, 224)).shape) == [1, 1, 112, 112]


def test_a_keras_design_exports_to_keras_and_torch(tmp_path: Path) -> None:
    """examples/keras_autoencoder.yaml: solved in TensorFlow's sizes, written as Keras code
    and as its PyTorch translation; both run with the sizes the solver reported."""
    import tf_ref
    import torch
    import torch_ref

    example = Path(__file__).parent.parent / "examples" / "keras_autoencoder.yaml"
    answer = json.loads(runner.invoke(app, ["solve", str(example), "--json"]).stdout)
    sizes = answer["solutions"][0]["sizes"][0]
    for to in ("keras", "torch"):
        out = tmp_path / f"{to}.py"
        result = runner.invoke(app, ["solve", str(example), "--export", str(out), "--to", to])
        assert result.exit_code == 0, result.output
        assert f"wrote the best solution as {'Keras' if to == 'keras' else 'PyTorch'} code" in result.output
    assert tf_ref.run_model((tmp_path / "keras.py").read_text(), "build_net", (75, 60, 3)) == sizes
    net = torch_ref.exported((tmp_path / "torch.py").read_text())
    assert list(net(torch.zeros(1, 3, 75, 60)).shape) == [1, 3, 75, 60]
    # The forward table shows the padding TensorFlow applied, per axis begin/end.
    solved = {k: v for k, v in yaml.safe_load(example.read_text()).items()
              if k in ("convention", "input_size", "in_channels")}
    doc = _write(tmp_path, "best.yaml", {**solved, "layers": answer["solutions"][0]["layers"]})
    table = runner.invoke(app, ["forward", str(doc)]).stdout
    assert "(tensorflow convention)" in table
    assert "1/1 0/1" in next(line for line in table.splitlines() if "enc1 (conv)" in line)
    # Keras code is for the tensorflow convention only: a clear error otherwise.
    pytorch = _write(tmp_path, "pytorch.yaml", {"input_size": [8], "layers": [{"type": "conv", "kernel_size": 3}]})
    result = runner.invoke(app, ["export", str(pytorch), "--to", "keras"])
    assert result.exit_code == ExitCode.DOCUMENT and "tensorflow convention" in result.stderr


def test_input_sizes_command() -> None:
    example = Path(__file__).parent.parent / "examples" / "unet_same.yaml"
    result = runner.invoke(app, ["input-sizes", str(example), "--min", "32", "--max", "1024", "--near", "500"])
    assert result.exit_code == 0, result.output
    assert "On every axis, the design runs for multiples of 16 from 32" in result.output
    assert "crop 500 to 496 (-4) or pad it to 512 (+12)" in result.output


def test_input_sizes_follow_the_documents_convention(tmp_path: Path) -> None:
    """Four stride-2 layers with TensorFlow's 'same' take any size and round-trip
    multiples of 4; PyTorch's padding 1 round-trips 1, 5, 9, ... instead."""
    layers = [{"type": kind, "kernel_size": 3, "stride": 2, "padding": "same"}
              for kind in ("conv", "conv", "conv_transpose", "conv_transpose")]
    tf = _write(tmp_path, "tf.yaml", {"convention": "tensorflow", "input_size": [75], "layers": layers})
    torch = _write(tmp_path, "torch.yaml", {"input_size": [75], "layers": [{**layer, "padding": 1} for layer in layers]})
    runs = runner.invoke(app, ["input-sizes", str(tf), "--max", "200"])
    assert "the design runs for every size from 1" in runs.output
    trips = runner.invoke(app, ["input-sizes", str(tf), "--max", "200", "--round-trip"])
    assert "multiples of 4 from 4; 75 does not: crop 75 to 72 (-3) or pad it to 76 (+1)" in trips.output
    trips = runner.invoke(app, ["input-sizes", str(torch), "--max", "200", "--round-trip"])
    assert "1 and every 4th size after it" in trips.output


def test_planner_commands() -> None:
    r = runner.invoke(app, ["unet", "--input-size", "572,572", "--conv", "valid", "--skip", "crop",
                            "--output-size", "none", "--limit", "1"])
    assert r.exit_code == 0, r.output
    assert "388 x 388" in r.output and "31,030,528 parameters" in r.output
    r = runner.invoke(app, ["aspp", "--input-size", "513,513", "--output-stride", "16"])
    assert r.exit_code == 0 and "rate18" in r.output and "18 x 18" in r.output
    for name in ("encoder-decoder", "autoencoder"):  # its name, and its first one
        r = runner.invoke(app, [name, "--kind", "generator", "--image-size", "64,64", "--depth", "5"])
        assert r.exit_code == 0 and "status: limit   designs: 20" in r.output
    r = runner.invoke(app, ["aspp", "--input-size", "513,513"])
    assert r.exit_code == ExitCode.DOCUMENT and "output_stride" in r.output
    r = runner.invoke(app, ["aspp", "--input-size", "513,513", "--output-stride", "16", "--convention", "tensorflow"])
    assert r.exit_code == 0 and "rate18 │  3 x 3 │  18 x 18 │    same" in r.output
    r = runner.invoke(app, ["unet", "--input-size", "75,75", "--depth", "2", "--convention", "tensorflow"])
    assert r.exit_code == ExitCode.NO_SOLUTION == 1 and "status: infeasible" in r.output and "76 x 76" in r.output


def test_version_short_help_and_python_m() -> None:
    for flag in ("--version", "-V"):
        r = runner.invoke(app, [flag])
        assert r.exit_code == 0 and r.output.strip() == f"convsolve {solver.__version__}"
    assert runner.invoke(app, ["solve", "-h"]).output == runner.invoke(app, ["solve", "--help"]).output
    import subprocess
    import sys

    r2 = subprocess.run([sys.executable, "-m", "convsolve", "--version"], capture_output=True, text=True, check=True)
    assert r2.stdout.strip() == f"convsolve {solver.__version__}"


def app_commands() -> list[str]:
    return [c.name or c.callback.__name__ for c in app.registered_commands if not c.hidden]


def test_help_shows_flags_as_flags_and_the_documents_defaults() -> None:
    solve_help = runner.invoke(app, ["solve", "--help"], terminal_width=200).output
    json_line = next(line for line in solve_help.splitlines() if "--json" in line)
    assert "<bool>" not in json_line
    # --help, --install-completion and every command's flags: no value shown for any flag
    for command in [[], *([name] for name in app_commands())]:
        assert "<bool>" not in runner.invoke(app, [*command, "--help"], terminal_width=200).output, command
    assert f"(default: {solver.SolveRequest.model_fields['time_limit_s'].default})" in solve_help
    unet_help = runner.invoke(app, ["unet", "--help"], terminal_width=200).output
    assert f"Levels down (and up). (default: {solver.UNetPlan.model_fields['depth'].default})" in unet_help
    assert "(default: conv_transpose)" in unet_help


def test_near_takes_one_size_syntax_as_every_command() -> None:
    example = str(Path(__file__).parent.parent / "examples" / "unet_same.yaml")
    answers = [runner.invoke(app, ["input-sizes", example, "--near", near]) for near in ("500,375", "500x375")]
    assert all(a.exit_code == 0 for a in answers) and answers[0].output == answers[1].output
    assert "375 does not: crop 375 to 368" in answers[0].output
    every = runner.invoke(app, ["input-sizes", example, "--near", "500"])
    assert every.exit_code == 0 and "On every axis" in every.output and "500 does not" in every.output


def test_exit_codes_tell_solved_infeasible_document_and_usage_apart(tmp_path: Path) -> None:
    examples = Path(__file__).parent.parent / "examples"
    for args in ([], ["--json"]):
        assert runner.invoke(app, ["solve", str(examples / "single_layer.yaml"), *args]).exit_code == ExitCode.ANSWERED
        assert runner.invoke(app, ["solve", str(examples / "odd_round_trip.yaml"), *args]).exit_code == 1
    bad = _write(tmp_path, "bad.yaml", {"input_size": [8], "target_size": [4], "layers": [{"type": "conv"}]})
    assert runner.invoke(app, ["solve", str(bad)]).exit_code == ExitCode.DOCUMENT == 3
    assert runner.invoke(app, ["solve", "--no-such-option", str(bad)]).exit_code == ExitCode.USAGE == 2


def test_planners_take_an_objective_and_one_latent_size_for_every_axis() -> None:
    r = runner.invoke(app, ["encoder-decoder", "--kind", "autoencoder", "--image-size", "28,28", "--latent-size", "7",
                            "--depth", "2", "--objective", "least_padding,smallest_kernels", "--json"])
    assert r.exit_code == 0, r.output
    answer = json.loads(r.stdout)
    assert answer["document"]["objective"] == ["least_padding", "smallest_kernels"]
    assert answer["document"]["targets"] == {"enc2": [7, 7]}
    scores = [d["score"] for d in answer["designs"]]
    assert scores == sorted(scores) and scores
    r = runner.invoke(app, ["unet", "--input-size", "64,64", "--depth", "2", "--objective", "smallest_kernels"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["encoder-decoder", "--image-size", "28,28", "--latent-size", "7,7,7"])
    assert r.exit_code == ExitCode.DOCUMENT and "latent_size: has 3 values but image_size has 2 axes" in r.output


def test_solve_export_can_write_any_listed_solution(tmp_path: Path) -> None:
    example = str(Path(__file__).parent.parent / "examples" / "single_layer.yaml")
    listed = json.loads(runner.invoke(app, ["solve", example, "--json"]).stdout)["solutions"]
    out = tmp_path / "second.py"
    r = runner.invoke(app, ["solve", example, "--export", str(out), "--pick", "2"])
    assert r.exit_code == 0 and "wrote solution #2 as PyTorch code" in r.output
    kernel = listed[1]["layers"][0]["kernel_size"]
    assert kernel == [2, 2] and "nn.Conv2d(1, 1, kernel_size=2, stride=2" in out.read_text()
    r = runner.invoke(app, ["solve", example, "--export", str(out), "--pick", "999"])
    assert r.exit_code == ExitCode.USAGE and "only" in r.output


def test_the_solutions_table_can_show_every_layers_size() -> None:
    example = str(Path(__file__).parent.parent / "examples" / "unet_original.yaml")
    plain = runner.invoke(app, ["solve", example, "--limit", "1"]).output
    shown = runner.invoke(app, ["solve", example, "--limit", "1", "--sizes"]).output
    assert "k3 p0 -> 570 x 570" in shown and "284 x 284" in shown  # enc1a's output, pool1's
    assert "570 x 570" not in plain
