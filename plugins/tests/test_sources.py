"""Checks on the plug-in sources that need no host application."""

import ast
import json
import os

from conftest import PLUGINS

SOURCE_FOLDERS = ["common", "nuke", os.path.join("houdini", "python3.11libs"), os.path.join("houdini", "scripts")]


def plugin_sources():
    for folder in SOURCE_FOLDERS:
        for directory, _, names in os.walk(os.path.join(PLUGINS, folder)):
            for name in sorted(names):
                if name.endswith(".py"):
                    yield os.path.join(directory, name)


def test_sources_parse_as_python_39():
    """Nuke 14 ships Python 3.9, so no source may use newer syntax."""
    failures = []
    for path in plugin_sources():
        with open(path, encoding="utf-8") as source:
            try:
                ast.parse(source.read(), filename=path, feature_version=(3, 9))
            except SyntaxError as error:
                failures.append("%s:%s: %s" % (os.path.relpath(path, PLUGINS), error.lineno, error.msg))
    assert failures == []


def test_houdini_package_file():
    with open(os.path.join(PLUGINS, "houdini", "packages", "deferred_diffusion.json")) as source:
        package = json.load(source)

    assert package["hpath"] == "$DDIFFUSION_PLUGINS/houdini"
    paths = [entry["PYTHONPATH"]["value"] for entry in package["env"] if "PYTHONPATH" in entry]
    assert "$DDIFFUSION_PLUGINS/common" in paths
