# Nuke runs this file after init.py when it starts with a user interface.
import nuke

import dd_nuke
import dd_nuke.actions

menu = nuke.menu("Nodes").addMenu("DeferredDiffusion")
menu.addCommand("DDImage", dd_nuke.create_image)
menu.addCommand("DDVideo", dd_nuke.create_video)
menu.addCommand("DDText", dd_nuke.create_text)

# Reconnect the nodes whose tasks were still running when the script was saved.
nuke.addOnScriptLoad(dd_nuke.actions.resume_all)
