"""Deferred Diffusion nodes for Nuke: DDImage, DDVideo and DDText."""


def create_image():
    from . import nodes

    return nodes.create("DDImage")


def create_video():
    from . import nodes

    return nodes.create("DDVideo")


def create_text():
    from . import nodes

    return nodes.create("DDText")
