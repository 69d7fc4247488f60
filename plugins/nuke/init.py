# Nuke runs this file at start-up for every folder on its plug-in path
# (NUKE_PATH, or nuke.pluginAddPath in ~/.nuke/init.py). It finds its own
# folder on that path and adds the plug-in's Python folders to it and to sys.path.
import os

import nuke


def _add_deferred_diffusion_paths():
    for folder in nuke.pluginPath():
        if os.path.isfile(os.path.join(folder, "python", "dd_nuke", "__init__.py")):
            nuke.pluginAddPath(os.path.join(folder, "python"))
            nuke.pluginAddPath(os.path.join(os.path.dirname(folder), "common"))
            # httpx and attrs, installed with pip --target (see plugins/README.md).
            vendor = os.path.join(folder, "vendor")
            if os.path.isdir(vendor):
                nuke.pluginAddPath(vendor)
            return
    nuke.warning("Deferred Diffusion: no plug-in folder with python/dd_nuke found on the plug-in path")


_add_deferred_diffusion_paths()
