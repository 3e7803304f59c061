"""Benchmarks are collected from bench_*.py files, functions named bench_*.

They time the C backend under the names "wsframe", "wsframe-c" and
"+wsframe-dropin": a run that would import the pure-Python twin instead (the
source tree, whose extension is not built, or an install without it) is
refused before anything is timed, so no table can show the twin under the C
backend's names. The twin's own rows ("wsframe-python") import it by name.
"""

import os
import sys

import pytest

# The benchmark files import their helpers (picows_harness, report) by name.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    config.addinivalue_line("python_files", "bench_*.py")
    config.addinivalue_line("python_functions", "bench_*")
    import wsframe
    from wsframe import _backend

    if wsframe.backend != "c":
        raise pytest.UsageError(
            f"the benchmarks time wsframe's C backend, but wsframe from {os.path.dirname(wsframe.__file__)} runs "
            f"on its pure-Python twin ({_backend.extension_error}). Install it with its extension "
            "(pip install '.[bench]') and run the benchmarks from the repository root with plain `pytest "
            "benchmarks ...` (python -m pytest puts the source tree first on sys.path); unset WSFRAME_PURE_PYTHON."
        )


def pytest_report_header(config):
    import wsframe
    from wsframe import _backend

    return (f"wsframe {wsframe.__version__} from {os.path.dirname(wsframe.__file__)}: backend {wsframe.backend}, "
            f"mask kernel {_backend.MASK_KERNEL}, UTF-8 kernel {_backend.UTF8_KERNEL}")
