import importlib.util
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_platform_is_a_source_root_not_a_package():
    assert (REPO / "platform").is_dir()
    assert not (REPO / "platform" / "__init__.py").exists()


def test_import_platform_gives_the_standard_module():
    import platform

    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)
    assert platform.python_version() == ".".join(map(str, sys.version_info[:3]))


def test_feature_packages_are_importable_from_the_source_root():
    for name in ("dienynas", "tenants", "accounts", "school"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        assert Path(spec.origin).resolve().is_relative_to(REPO / "platform")
