"""Declares the optional C extension; all metadata lives in pyproject.toml.

The extension is optional: without Cython (and no pre-generated C file), or
without a working C compiler, wsframe installs with its pure-Python backend and
prints a warning. ``WSFRAME_REQUIRE_EXTENSION=1`` makes that a build failure;
``WSFRAME_NO_EXTENSION=1`` skips the extension on purpose (the pure wheel).
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRE_EXTENSION = os.environ.get("WSFRAME_REQUIRE_EXTENSION", "") not in ("", "0")
NO_EXTENSION = os.environ.get("WSFRAME_NO_EXTENSION", "") not in ("", "0")


def warn(message):
    bar = "*" * 72
    sys.stderr.write(f"\n{bar}\nWARNING: {message}\nwsframe will use its pure-Python backend, which is slower.\n"
                     f"Set WSFRAME_REQUIRE_EXTENSION=1 to make this an error.\n{bar}\n\n")


def fail_or_warn(message):
    if REQUIRE_EXTENSION:
        raise SystemExit(f"error: {message} (WSFRAME_REQUIRE_EXTENSION is set)")
    warn(message)


def extensions():
    if NO_EXTENSION:
        if REQUIRE_EXTENSION:
            raise SystemExit("error: WSFRAME_NO_EXTENSION and WSFRAME_REQUIRE_EXTENSION are both set")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        cythonize = None
    # _cframe is the C backend; _caiohttp, the aiohttp drop-in's compiled
    # reader and writer, is built beside it from the same kernels.
    modules = {
        "_cframe": ("_mask.h", "_utf8.h", "_keypool.h", "_rfc6455.pxd"),
        "_caiohttp": ("_mask.h", "_utf8.h", "_rfc6455.pxd"),
    }
    extensions = []
    for module, depends in modules.items():
        pyx = os.path.join("wsframe", f"{module}.pyx")
        generated_c = os.path.join("wsframe", f"{module}.c")
        if cythonize is None and not os.path.exists(os.path.join(HERE, generated_c)):
            fail_or_warn("Cython is not installed, so the C extension cannot be generated.")
            return []
        extensions.append(Extension(
            f"wsframe.{module}",
            sources=[pyx if cythonize is not None else generated_c],
            include_dirs=["wsframe"],
            depends=[os.path.join("wsframe", name) for name in depends],
        ))
    if cythonize is None:
        return extensions
    return cythonize(extensions, compiler_directives={"language_level": "3"})


class OptionalBuildExt(build_ext):
    """Builds the extension, falling back to pure Python when no compiler works."""

    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            for extension in self.extensions:
                extension.extra_compile_args += ["-O3", "-std=c99", "-Wall"]
        super().build_extensions()

    def run(self):
        try:
            super().run()
        except (PlatformError, CCompilerError, ExecError) as exc:
            fail_or_warn(f"the C extension could not be built: {exc}")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except (CCompilerError, ExecError, PlatformError, ValueError) as exc:
            fail_or_warn(f"the C extension could not be built: {exc}")


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
