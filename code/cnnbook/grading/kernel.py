"""Run untrusted notebook code in a Jupyter kernel, one cell at a time, each under a time limit.

nbclient executes each cell with ``timeout`` seconds; on a timeout the kernel is interrupted and the
cell recorded as timed out, and execution goes on with the next cell. A kernel that ignores the
interrupt (or dies) ends the run: every later cell and question is reported, never waited for.
The kernel starts in an empty temporary folder with ``CNNBOOK_GRADING=1`` and its stdout/stderr
(TensorFlow's C++ logs) discarded: only cell outputs come back.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from cnnbook.grading.paths import GRADING_VARIABLE

PING_TIMEOUT = (
    15  # seconds a kernel has to answer after an interrupt before it counts as stuck
)
_TIMEOUT_ERROR = {"ename": "CellTimeoutError", "evalue": "timed out", "traceback": []}


@dataclass(frozen=True)
class CellResult:
    """How one cell ended: status 'ok', 'error', 'timeout' or 'dead'; its stdout; a one-line error."""

    status: str
    stdout: str
    error: str = ""


def _one_line(text: str, limit: int = 200) -> str:
    """The text on one line, shortened to limit characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def kernel_environment() -> dict[str, str]:
    """The kernel's environment: ours, marked as grading, with TensorFlow and matplotlib quiet."""
    env = dict(os.environ)
    env.update(
        {
            GRADING_VARIABLE: "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "MPLBACKEND": "Agg",
            "PYTHONWARNINGS": "ignore",
            "KERAS_BACKEND": "tensorflow",
        }
    )
    return env


class GradingKernel:
    """A kernel in workdir that runs code cells under per-cell time limits (a context manager)."""

    def __init__(self, workdir: Path, ping_timeout: float = PING_TIMEOUT) -> None:
        """Prepare (not yet start) a kernel whose working directory is workdir."""
        self.ping_timeout = max(1, int(round(ping_timeout)))
        self.notebook = nbformat.v4.new_notebook()
        self.client = NotebookClient(
            self.notebook,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout=dict(_TIMEOUT_ERROR),
            resources={"metadata": {"path": str(workdir)}},
            shutdown_kernel="immediate",
            startup_timeout=120,
        )
        self.client.log = logging.getLogger("cnnbook.grading.kernel")
        self.client.log.setLevel(logging.CRITICAL)
        self.client.on_cell_executed = self._record_reply
        self._last_error = ""
        self.alive = False
        self._context = None

    def __enter__(self) -> GradingKernel:
        """Start the kernel."""
        self._context = self.client.setup_kernel(
            env=kernel_environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._context.__enter__()
        self.alive = True
        return self

    def __exit__(
        self, kind: type | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Shut the kernel down (killing it if it does not stop)."""
        try:
            self._context.__exit__(kind, value, tb)
        except Exception:  # a dead or stuck kernel: make sure the process is gone
            if self.client.km is not None and self.client.km.has_kernel:
                self.client.km.kill_kernel()

    def _record_reply(
        self, cell: nbformat.NotebookNode, cell_index: int, execute_reply: dict | None
    ) -> None:
        """nbclient hook: remember the error name of the reply (CellTimeoutError after a timeout)."""
        content = (execute_reply or {}).get("content", {})
        self._last_error = (
            content.get("ename", "") if content.get("status") == "error" else ""
        )

    def run(self, source: str, timeout: float) -> CellResult:
        """Execute source as one cell with a time limit; never raises for what the code does."""
        if not self.alive:
            return CellResult("dead", "", "not run: the kernel had stopped responding")
        cell = nbformat.v4.new_code_cell(source)
        self.notebook.cells.append(cell)
        limit = self.client.timeout = max(1, int(round(timeout)))
        self._last_error = ""
        try:
            self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        except DeadKernelError:
            self.alive = False
            return CellResult(
                "dead",
                _stdout(cell),
                "the kernel died (the code crashed or exited Python)",
            )
        if self._last_error == _TIMEOUT_ERROR["ename"]:
            self._check_responsive()
            if not self.alive:
                return CellResult(
                    "dead",
                    _stdout(cell),
                    f"timed out after {limit} s and ignored the interrupt: "
                    "the kernel was stopped",
                )
            return CellResult("timeout", _stdout(cell), f"timed out after {limit} s")
        error = next((o for o in cell.outputs if o.output_type == "error"), None)
        if error is not None:
            return CellResult(
                "error", _stdout(cell), _one_line(f"{error.ename}: {error.evalue}")
            )
        return CellResult("ok", _stdout(cell))

    def _check_responsive(self) -> None:
        """After an interrupt: a kernel that cannot run `pass` within ping_timeout is given up."""
        cell = nbformat.v4.new_code_cell("pass")
        self.notebook.cells.append(cell)
        self.client.timeout = self.ping_timeout
        self._last_error = ""
        try:
            self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        except DeadKernelError:
            self.alive = False
            return
        if self._last_error == _TIMEOUT_ERROR["ename"]:
            self.alive = False


def _stdout(cell: nbformat.NotebookNode) -> str:
    """Everything the cell printed to stdout."""
    return "".join(
        o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout"
    )
