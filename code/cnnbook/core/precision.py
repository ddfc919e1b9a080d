"""Which floating-point policy training uses on this machine, and why (README, chapter "Putting it all together").

Mixed bfloat16 halves the bytes moved and, on a CPU with bfloat16 instructions (AVX-512 BF16 or
AMX), roughly doubles the training speed. On a CPU without them (most laptops: AVX2 only) oneDNN
emulates bfloat16 and a step is several times *slower* than in float32 (one `fast_short` step of
1,024 images about 9x, measured on a 2-core AMD EPYC Zen 3); with ONEDNN_MAX_CPU_ISA capped below
them, oneDNN refuses bfloat16 kernels outright. So the default, ``auto``, takes mixed bfloat16 only
where the CPU has the instructions and oneDNN may use them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PRECISIONS = ("auto", "float32", "mixed_bfloat16")
BF16_FLAGS = (
    "avx512_bf16",
    "amx_bf16",
)  # /proc/cpuinfo flags of the bfloat16 dot-product instructions
# ONEDNN_MAX_CPU_ISA values that still allow oneDNN's bfloat16 kernels (anything lower emulates them).
BF16_ISAS = (
    "ALL",
    "DEFAULT",
    "AVX512_CORE_BF16",
    "AVX512_CORE_FP16",
    "AVX512_CORE_AMX",
    "AVX512_CORE_AMX_FP16",
    "AVX10_1_512",
    "AVX10_1_512_AMX",
    "AVX10_1_512_AMX_FP16",
    "AVX10_2_512",
    "AVX10_2_512_AMX_2",
)


@dataclass(frozen=True)
class Precision:
    """A Keras mixed-precision policy name and the one-line reason it was chosen."""

    policy: str
    reason: str

    @property
    def mixed(self) -> bool:
        """True for mixed bfloat16."""
        return self.policy == "mixed_bfloat16"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The instruction-set flags of the first CPU listed in /proc/cpuinfo (empty where there is none)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_description(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, core count and whether it has bfloat16 instructions, e.g. for a
    manifest entry next to the minutes it records: "AMD EPYC, 2 cores, no bfloat16"."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown CPU"
    names = [
        line.partition(":")[2].strip()
        for line in text.splitlines()
        if line.startswith("model name")
    ]
    native = any(flag in cpu_flags(cpuinfo) for flag in BF16_FLAGS)
    return f"{names[0] if names else 'unknown CPU'}, {os.cpu_count()} cores, {'' if native else 'no '}bfloat16"


def bfloat16_support(
    flags: set[str] | None = None, max_isa: str | None = None
) -> tuple[bool, str]:
    """Whether oneDNN runs bfloat16 natively here, and why (the CPU's flags and ONEDNN_MAX_CPU_ISA)."""
    flags = cpu_flags() if flags is None else flags
    max_isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "") if max_isa is None else max_isa
    found = [f for f in BF16_FLAGS if f in flags]
    if not found:
        return (
            False,
            "this CPU has no bfloat16 instructions (no avx512_bf16 or amx_bf16 flag)",
        )
    if max_isa and max_isa.upper() not in BF16_ISAS:
        return (
            False,
            f"ONEDNN_MAX_CPU_ISA={max_isa} keeps oneDNN from its bfloat16 instructions",
        )
    return True, f"this CPU has bfloat16 instructions ({', '.join(found)})"


def choose_precision(
    requested: str = "auto", flags: set[str] | None = None, max_isa: str | None = None
) -> Precision:
    """The policy for a requested precision: 'auto' picks mixed bfloat16 only where it runs natively."""
    if requested not in PRECISIONS:
        raise ValueError(
            f"unknown precision {requested!r}: choose one of {', '.join(PRECISIONS)}"
        )
    native, why = bfloat16_support(flags, max_isa)
    if requested == "float32":
        return Precision("float32", "asked for (--precision float32)")
    if requested == "mixed_bfloat16":
        note = (
            "" if native else "; expect it to be several times slower than float32 here"
        )
        return Precision(
            "mixed_bfloat16", f"asked for (--precision mixed_bfloat16): {why}{note}"
        )
    if native:
        return Precision(
            "mixed_bfloat16", f"{why}: mixed bfloat16, faster than float32 there"
        )
    return Precision(
        "float32",
        f"{why}: float32, since bfloat16 would be emulated (several times slower) "
        "or refused",
    )


def native_bfloat16() -> bool:
    """The default of every recipe's ``mixed_precision``: True only where mixed bfloat16 runs natively."""
    return choose_precision("auto").mixed
