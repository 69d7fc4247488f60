"""Build the Deferred Diffusion digital assets for Houdini 20.5's Copernicus.

Run with Houdini's Python, from anywhere:

    hython plugins/houdini/scripts/build_hdas.py [OUTPUT.hda]

It writes DDImage, DDText and DDVideo (types deferred_diffusion::dd_image::1.0,
dd_text and dd_video) into one library, by default
plugins/houdini/otls/deferred_diffusion.hda, where the package file puts it
on Houdini's path. Inputs and parameters come from dd_houdini.interface; the
buttons and menus call dd_houdini.tasks.

NOTE: this script has not been run in Houdini. The Copernicus node type
names (copnet, subnet, file, output) and the File COP's parameter names
come from the Houdini 20.5 documentation.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HOUDINI_FOLDER = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HOUDINI_FOLDER, "python3.11libs"))
sys.path.insert(0, os.path.join(os.path.dirname(HOUDINI_FOLDER), "common"))

import hou  # noqa: E402

from dd_houdini import interface  # noqa: E402

ON_CREATED = "import dd_houdini.tasks\ndd_houdini.tasks.on_created(kwargs['node'])\n"
ON_LOADED = "import dd_houdini.tasks\ndd_houdini.tasks.resume_all([kwargs['node']])\n"


def parm_template(spec):
    """Return the hou.ParmTemplate of one interface.ParmSpec."""
    if spec.kind == "button":
        template = hou.ButtonParmTemplate(
            spec.name,
            spec.label,
            script_callback=spec.callback,
            script_callback_language=hou.scriptLanguage.Python,
        )
    elif spec.kind in ("string", "multiline"):
        template = hou.StringParmTemplate(spec.name, spec.label, 1, default_value=(spec.default or "",))
        if spec.kind == "multiline":
            template.setTags({"editor": "1", "editorlines": "3-12"})
        if spec.menu_script:
            template.setItemGeneratorScript(spec.menu_script)
            template.setItemGeneratorScriptLanguage(hou.scriptLanguage.Python)
            # A replace menu keeps a typed or saved value when the server is offline.
            template.setMenuType(hou.menuType.StringReplace)
        if spec.menu_items:
            template.setMenuItems(spec.menu_items)
            template.setMenuLabels(spec.menu_items)
            template.setMenuType(hou.menuType.StringReplace)
    elif spec.kind == "int":
        template = hou.IntParmTemplate(
            spec.name,
            spec.label,
            1,
            default_value=(spec.default or 0,),
            min=spec.minimum if spec.minimum is not None else 0,
            max=spec.maximum if spec.maximum is not None else 10,
            min_is_strict=spec.minimum is not None,
            max_is_strict=spec.maximum is not None,
        )
    elif spec.kind == "float":
        template = hou.FloatParmTemplate(
            spec.name,
            spec.label,
            1,
            default_value=(spec.default or 0.0,),
            min=spec.minimum if spec.minimum is not None else 0.0,
            max=spec.maximum if spec.maximum is not None else 1.0,
            min_is_strict=spec.minimum is not None,
            max_is_strict=spec.maximum is not None,
        )
    else:
        raise ValueError("unknown parameter kind %r of %s" % (spec.kind, spec.name))
    if spec.callback and spec.kind != "button":
        template.setScriptCallback(spec.callback)
        template.setScriptCallbackLanguage(hou.scriptLanguage.Python)
    if spec.hidden:
        template.hide(True)
    if spec.join_next:
        template.setJoinWithNext(True)
    if spec.help:
        template.setHelp(spec.help)
    return template


def parm_template_group(asset):
    group = hou.ParmTemplateGroup()
    folders = {}
    for spec in asset.parms:
        if spec.folder not in folders:
            folders[spec.folder] = hou.FolderParmTemplate(spec.folder.lower(), spec.folder, folder_type=hou.folderType.Tabs)
        folders[spec.folder].addParmTemplate(parm_template(spec))
    for folder in folders.values():
        group.append(folder)
    return group


def build_contents(subnet, asset):
    """Add the output reader: a File COP that loads the downloaded result."""
    outputs = [child for child in subnet.children() if child.type().name() in ("output", "suboutput")]
    output = outputs[0] if outputs else subnet.createNode("output")
    reader = subnet.createNode("file", "output_reader")
    if asset is interface.IMAGE:
        reader.parm("filename").set('`chs("../output_image_path")`')
    elif asset is interface.VIDEO:
        reader.parm("filename").set('`chs("../output_video_path")`')
        # NOTE: the File COP's video start frame parameter name is a guess;
        # without it DDVideo's clip starts at frame 1 instead of the generation frame.
        for name in ("videostartframe", "startframe"):
            if reader.parm(name) is not None:
                reader.parm(name).setExpression('ch("../video_start_frame")')
                break
    if asset is not interface.TEXT:
        output.setInput(0, reader)
    subnet.layoutChildren()


def add_input_labels(definition, asset):
    """Name the asset's inputs by adding `inputlabel` lines to its DialogScript section."""
    section = definition.sections()["DialogScript"]
    lines = section.contents().splitlines()
    labels = ['    inputlabel\t%d\t"%s"' % (index + 1, name) for index, name in enumerate(asset.inputs)]
    for position, line in enumerate(lines):
        if line.strip().startswith("label"):
            lines[position + 1 : position + 1] = labels
            break
    section.setContents("\n".join(lines) + "\n")


def build(asset, network, library):
    subnet = network.createNode("subnet", asset.kind)
    build_contents(subnet, asset)
    node = subnet.createDigitalAsset(
        name=asset.type_name,
        hda_file_name=library,
        description=asset.label,
        min_num_inputs=0,
        max_num_inputs=len(asset.inputs),
        ignore_external_references=True,
    )
    definition = node.type().definition()
    definition.setParmTemplateGroup(parm_template_group(asset))
    add_input_labels(definition, asset)
    definition.addSection("OnCreated", ON_CREATED)
    definition.setExtraFileOption("OnCreated/IsPython", True)
    definition.addSection("OnLoaded", ON_LOADED)
    definition.setExtraFileOption("OnLoaded/IsPython", True)
    definition.setComment("Deferred Diffusion %s: runs on the server at DDIFFUSION_API_ADDRESS" % asset.label)
    definition.save(library)
    print("built %s into %s" % (asset.type_name, library))


def main():
    if hou.applicationVersion() < (20, 5, 0):
        sys.exit("error: the assets target Houdini 20.5 or newer, this is %s" % hou.applicationVersionString())
    library = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HOUDINI_FOLDER, "otls", "deferred_diffusion.hda"))
    os.makedirs(os.path.dirname(library), exist_ok=True)
    if os.path.exists(library):
        os.remove(library)
    network = hou.node("/obj").createNode("copnet", "dd_build")
    try:
        for asset in (interface.IMAGE, interface.TEXT, interface.VIDEO):
            build(asset, network, library)
    finally:
        network.destroy()


if __name__ == "__main__":
    main()
