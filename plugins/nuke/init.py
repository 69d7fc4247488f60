# Nuke runs this file at start-up for every folder on its plug-in path
# (NUKE_PATH or nuke.pluginAddPath). Relative paths given to pluginAddPath are
# resolved against this folder; each one is also added to sys.path.
import nuke

nuke.pluginAddPath("./python")
nuke.pluginAddPath("../common")
