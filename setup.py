"""Declares the optional C extension; all other metadata lives in pyproject.toml.

The extension is optional: without Cython (and no pre-generated C file), or
without a working C compiler, wsframe installs with its pure-Python backend.
``WSFRAME_REQUIRE_EXTENSION=1`` makes that a build failure;
``WSFRAME_NO_EXTENSION=1`` skips the extension on purpose (the pure wheel).

What a user sees: pip shows a build's output only with ``-v``, so the
fallback also records itself in ``wsframe/_build.json`` inside the built
package (``wsframe/_backend.py`` reads it: a one-time warning at import for a
build that failed, silence for the pure build asked for, and ``wsframe info``
says which), and a wheel without the extension is tagged ``py3-none-any``,
which pip prints as it builds it.

Release builds carry no debug information (``-g0``, and ``-s`` when linking on
Linux): about a sixth of the size. A build asked for with debug information
keeps it: ``build_ext --debug``, or ``-g``/``-fsanitize`` in ``CFLAGS`` or
``LDFLAGS`` (tools/sanitize.sh and tools/prove_freethreading.sh do that).
"""

import json
import os
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.errors import CCompilerError, ExecError, PlatformError

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRE_EXTENSION = os.environ.get("WSFRAME_REQUIRE_EXTENSION", "") not in ("", "0")
NO_EXTENSION = os.environ.get("WSFRAME_NO_EXTENSION", "") not in ("", "0")
# The record wsframe/_backend.py reads: why this build holds no extension.
BUILD_RECORD = os.path.join("wsframe", "_build.json")
# Why the extension was left out of this build, once known: {"extension": "skipped" | "failed", "why": ...}.
left_out = None


def warn(message):
    bar = "*" * 72
    sys.stderr.write(f"\n{bar}\nWARNING: {message}\nwsframe will use its pure-Python backend, which is slower.\n"
                     f"Set WSFRAME_REQUIRE_EXTENSION=1 to make this an error.\n{bar}\n\n")


def fail_or_warn(message):
    global left_out
    if REQUIRE_EXTENSION:
        raise SystemExit(f"error: {message} (WSFRAME_REQUIRE_EXTENSION is set)")
    warn(message)
    left_out = {"extension": "failed", "why": message}


def write_record(package_root):
    """Record in the built package why it has no extension, or remove a stale record."""
    path = os.path.join(package_root, BUILD_RECORD)
    if left_out is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as file:
            json.dump(left_out, file)
            file.write("\n")
    elif os.path.exists(path):
        os.remove(path)


def keeps_debug_info(debug):
    """Whether this build was asked for debug information (sanitizers, valgrind, build_ext --debug)."""
    if debug:
        return True
    flags = (os.environ.get("CFLAGS", "") + " " + os.environ.get("LDFLAGS", "")).split()
    return any((flag.startswith("-g") and flag != "-g0") or flag.startswith("-fsanitize") for flag in flags)


def extensions():
    global left_out
    if NO_EXTENSION:
        if REQUIRE_EXTENSION:
            raise SystemExit("error: WSFRAME_NO_EXTENSION and WSFRAME_REQUIRE_EXTENSION are both set")
        left_out = {"extension": "skipped", "why": "WSFRAME_NO_EXTENSION=1"}
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        cythonize = None
    # _cframe is the C backend; _caiohttp, the aiohttp drop-in's compiled
    # reader and writer, is built beside it from the same kernels.
    modules = {
        "_cframe": ("_mask.h", "_utf8.h", "_keypool.h", "_rfc6455.pxd", "_kernels.pxd"),
        "_caiohttp": ("_mask.h", "_utf8.h", "_rfc6455.pxd", "_kernels.pxd"),
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
    # The C backend's connection layer: _connection.py itself, compiled as
    # _cconnection with its classes' attributes typed by _cconnection.pxd
    # (one source for both backends). Not on free-threaded builds, whose
    # backend keeps the interpreted copy (see _backend.py).
    connection = []
    if not sysconfig.get_config_var("Py_GIL_DISABLED"):
        source = os.path.join("wsframe", "_connection.py")
        generated_c = os.path.join("wsframe", "_connection.c")
        if cythonize is None and not os.path.exists(os.path.join(HERE, generated_c)):
            fail_or_warn("Cython is not installed, so the C extension cannot be generated.")
            return []
        connection.append(Extension(
            "wsframe._cconnection",
            sources=[source if cythonize is not None else generated_c],
            depends=[os.path.join("wsframe", "_cconnection.pxd")],
        ))
    if cythonize is None:
        return extensions + connection
    # The annotations of _connection.py are for type checkers: Cython must
    # not turn them into run-time type checks the interpreted copy lacks.
    return (cythonize(extensions, compiler_directives={"language_level": "3"})
            + cythonize(connection, compiler_directives={"language_level": "3", "annotation_typing": False}))


class OptionalBuildExt(build_ext):
    """Builds the extension, falling back to pure Python when no compiler works."""

    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            strip = not keeps_debug_info(self.debug)
            for extension in self.extensions:
                extension.extra_compile_args += ["-O3", "-std=c99", "-Wall"]
                if strip:
                    # After Python's own CFLAGS (which carry -g on most builds).
                    extension.extra_compile_args += ["-g0"]
                    if sys.platform.startswith("linux"):
                        extension.extra_link_args += ["-s"]
        super().build_extensions()

    def run(self):
        try:
            super().run()
        except (PlatformError, CCompilerError, ExecError) as exc:
            fail_or_warn(f"the C extension could not be built: {exc}")
        if left_out is not None:
            # Nothing compiled goes into this build: not a stale extension
            # left in build/ by an earlier one, and the wheel is pure.
            for extension in self.extensions:
                stale = self.get_ext_fullpath(extension.name)
                if os.path.exists(stale):
                    os.remove(stale)
            self.distribution.ext_modules = []
        # Not in place (a wheel): build_py ran first, before the outcome was
        # known; in place (pip install -e): the source tree's package.
        write_record(self.build_lib if not self.inplace else HERE)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except (CCompilerError, ExecError, PlatformError, ValueError) as exc:
            fail_or_warn(f"the C extension could not be built: {exc}")


class BuildPy(build_py):
    """Copies the package, with the record of an extension skipped or impossible from the start."""

    def run(self):
        super().run()
        if not self.editable_mode:
            write_record(self.build_lib)


class BdistWheel(bdist_wheel):
    """A wheel whose extension could not be built holds pure Python: tag it ``py3-none-any``.

    bdist_wheel decides ``root_is_pure`` before the build runs, from whether
    extensions are declared; it is read again after the build, when the
    outcome is known.
    """

    @property
    def root_is_pure(self):
        return self._root_is_pure or left_out is not None

    @root_is_pure.setter
    def root_is_pure(self, value):
        self._root_is_pure = value


setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": OptionalBuildExt, "build_py": BuildPy, "bdist_wheel": BdistWheel},
    # Written as the Home-page and License fields, the ones pip 23 shows
    # (it reads neither Project-URL nor License-Expression); pyproject.toml
    # declares license dynamic. A License-Expression would exclude the
    # License field (core metadata 2.4), so the license is given here.
    url="https://github.com/wsframe/wsframe",
    license="MIT",
)
