"""Benchmarks are collected from bench_*.py files, functions named bench_*."""

import os
import sys

# The benchmark files import their helpers (picows_harness, report) by name.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    config.addinivalue_line("python_files", "bench_*.py")
    config.addinivalue_line("python_functions", "bench_*")
