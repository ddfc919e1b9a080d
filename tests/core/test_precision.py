"""cnnbook.core.precision: mixed bfloat16 only where the CPU runs it natively, with the reason said."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnbook.core.precision import bfloat16_support, choose_precision, cpu_flags

AVX512_BF16 = {"avx2", "avx512f", "avx512_bf16"}
ZEN3 = {"avx2", "fma", "sse4_2"}  # AMD EPYC Zen 3: AVX2, no bfloat16


def test_auto_takes_bfloat16_where_the_cpu_has_it() -> None:
    chosen = choose_precision("auto", AVX512_BF16, max_isa="")
    assert (
        chosen.policy == "mixed_bfloat16"
        and chosen.mixed
        and "avx512_bf16" in chosen.reason
    )


def test_auto_takes_float32_without_bfloat16_instructions() -> None:
    chosen = choose_precision("auto", ZEN3, max_isa="")
    assert (
        chosen.policy == "float32"
        and not chosen.mixed
        and "no bfloat16 instructions" in chosen.reason
    )


@pytest.mark.parametrize(
    "isa, native",
    [
        ("AVX2", False),
        ("avx512_core", False),
        ("AVX512_CORE_BF16", True),
        ("AVX512_CORE_AMX", True),
        ("", True),
    ],
)
def test_a_onednn_cap_below_bfloat16_counts_as_emulated(isa: str, native: bool) -> None:
    assert bfloat16_support(AVX512_BF16, isa)[0] is native
    assert choose_precision("auto", AVX512_BF16, isa).mixed is native


def test_an_explicit_choice_is_kept_and_warned_about() -> None:
    assert choose_precision("float32", AVX512_BF16, "").policy == "float32"
    forced = choose_precision("mixed_bfloat16", ZEN3, "")
    assert forced.mixed and "slower" in forced.reason


def test_unknown_precision_is_one_clear_error() -> None:
    with pytest.raises(
        ValueError,
        match="unknown precision 'fp8': choose one of auto, float32, mixed_bfloat16",
    ):
        choose_precision("fp8")


def test_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 fma\n\n"
        "processor\t: 1\nflags\t\t: fpu\n",
        encoding="utf-8",
    )
    assert cpu_flags(cpuinfo) == {"fpu", "sse2", "avx2", "fma"}
    assert cpu_flags(tmp_path / "missing") == set()


def test_cpu_description_names_model_cores_and_bfloat16(tmp_path: Path) -> None:
    import os

    from cnnbook.core.precision import cpu_description

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "model name\t: AMD EPYC 7B13\nflags\t\t: avx2 fma\n", encoding="utf-8"
    )
    assert (
        cpu_description(cpuinfo)
        == f"AMD EPYC 7B13, {os.cpu_count()} cores, no bfloat16"
    )
    cpuinfo.write_text(
        "model name\t: Some Xeon\nflags\t\t: avx512f avx512_bf16\n", encoding="utf-8"
    )
    assert cpu_description(cpuinfo).endswith(", bfloat16")
    assert cpu_description(tmp_path / "missing") == "unknown CPU"
