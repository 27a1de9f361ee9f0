"""The architecture's layering: reports are drawn from records alone, analysis is pure of the training loop."""

import subprocess
import sys

import pytest

FORBIDDEN = {
    "truncatedtl.report": ("truncatedtl.engine", "truncatedtl.search"),
    "truncatedtl.analysis": ("truncatedtl.engine",),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_the_layers_above_it(package):
    code = (f"import pkgutil, importlib, sys, {package} as p\n"
            f"for m in pkgutil.iter_modules(p.__path__): importlib.import_module('{package}.' + m.name)\n"
            f"print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert [m for m in loaded if m.startswith(FORBIDDEN[package])] == []
