from pathlib import Path

import pigeon
import pigeon.handler
from pigeon_tools.paths import BUILD


def test_pigeon_is_imported_from_the_build_not_the_source_tree():
    assert Path(pigeon.__file__).resolve().is_relative_to(BUILD.resolve())
    assert Path(pigeon.handler.__file__).resolve().is_relative_to(BUILD.resolve())


def test_dependencies_are_imported_from_the_build():
    import pika
    import pythonjsonlogger

    for module in (pika, pythonjsonlogger):
        assert Path(module.__file__).resolve().is_relative_to(BUILD.resolve()), module
