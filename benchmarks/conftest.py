"""Benchmarks are collected from bench_*.py files, functions named bench_*."""


def pytest_configure(config):
    config.addinivalue_line("python_files", "bench_*.py")
    config.addinivalue_line("python_functions", "bench_*")
