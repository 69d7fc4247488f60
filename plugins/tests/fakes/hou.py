"""A fake `hou` module with just the calls the Deferred Diffusion assets make.

Nodes, parameters, user data and colours are recorded. Parameters may only
be set on the thread that called `reset()`; `hou.ui.postEventCallback`
queues callbacks that `drain()` or `wait_for()` run. ROP Image nodes render
for real from an upstream `file` node (PNG only).
"""

import os
import queue
import re
import threading
import time

import images


class ObjectWasDeleted(Exception):
    pass


class severityType:
    Message = "Message"
    Warning = "Warning"
    Error = "Error"


class Color:
    def __init__(self, rgb=(0.0, 0.0, 0.0)):
        self._rgb = tuple(float(channel) for channel in rgb)

    def rgb(self):
        return self._rgb

    def __eq__(self, other):
        return isinstance(other, Color) and other._rgb == self._rgb

    def __repr__(self):
        return "Color(%r)" % (self._rgb,)


class _State:
    def __init__(self, hip_path, frame):
        self.main_thread = threading.get_ident()
        self.hip_path = hip_path
        self.frame = frame
        self.calls = queue.Queue()
        self.messages = []
        self.renders = []
        self.ui_available = True
        self.root = Node("root", "/", None)


_state = None


def reset(hip_path="", frame=1):
    """Start a fresh session whose main thread is the calling thread."""
    global _state
    _state = _State(hip_path, frame)
    return _state


def state():
    return _state


def _check_main_thread(operation):
    if threading.get_ident() != _state.main_thread:
        raise RuntimeError("%s was called from a background thread; use hou.ui.postEventCallback" % operation)


class Parm:
    def __init__(self, node, name, kind="string", default=None, callback=None, menu_script=None):
        self._node = node
        self._name = name
        self.kind = kind
        self._value = default
        self.callback = callback
        self.menu_script = menu_script
        self.history = []

    def name(self):
        return self._name

    def node(self):
        return self._node

    def eval(self):
        return self._value

    def evalAsString(self):
        return "" if self._value is None else str(self._value)

    def evalAsInt(self):
        return int(self._value or 0)

    def evalAsFloat(self):
        return float(self._value or 0.0)

    def unexpandedString(self):
        return self.evalAsString()

    def set(self, value):
        _check_main_thread("%s.set" % self._name)
        self._node._alive()
        self._value = value
        self.history.append(value)

    def pressButton(self):
        """Run the callback script with `kwargs` as Houdini does."""
        _check_main_thread("%s.pressButton" % self._name)
        if self.callback:
            exec(self.callback, {"hou": __import__("hou"), "kwargs": {"node": self._node, "parm": self}})
        self.presses = getattr(self, "presses", 0) + 1

    def menuItems(self):
        """Evaluate the menu script and return its tokens."""
        body = "def _menu(kwargs):\n" + "\n".join("    " + line for line in self.menu_script.splitlines())
        scope = {"hou": __import__("hou")}
        exec(body, scope)
        return tuple(scope["_menu"]({"node": self._node, "parm": self})[::2])


class Node:
    def __init__(self, type_name, name, parent):
        self._type_name = type_name
        self._name = name
        self._parent = parent
        self._children = []
        self._parms = {}
        self._inputs = {}
        self._user_data = {}
        self._color = Color()
        self.color_history = []
        self._deleted = False
        if type_name == "rop_image":
            self.addParm(Parm(self, "copoutput"))
        if type_name == "file":
            self.addParm(Parm(self, "filename"))
            self.addParm(Parm(self, "reload", "button"))

    def _alive(self):
        if self._deleted:
            raise ObjectWasDeleted("Attempt to access an object that no longer exists in Houdini.")

    def name(self):
        self._alive()
        return self._name

    def path(self):
        self._alive()
        if self._parent is None:
            return "/"
        parent = self._parent.path()
        return (parent.rstrip("/") + "/" + self._name) if parent else "/" + self._name

    def parent(self):
        return self._parent

    def type_name(self):
        return self._type_name

    def addParm(self, parm):
        self._parms[parm.name()] = parm

    def parm(self, name):
        self._alive()
        return self._parms.get(name)

    def parms(self):
        return list(self._parms.values())

    def createNode(self, type_name, node_name=None):
        _check_main_thread("createNode")
        self._alive()
        name = node_name or "%s1" % type_name
        child = Node(type_name, name, self)
        self._children.append(child)
        return child

    def children(self):
        return tuple(self._children)

    def node(self, relative):
        for child in self._children:
            if child._name == relative:
                return child
        return None

    def destroy(self):
        _check_main_thread("destroy")
        self._alive()
        self._parent._children.remove(self)
        self._deleted = True

    def setInput(self, index, node, output_index=0):
        self._alive()
        if node is None:
            self._inputs.pop(index, None)
        else:
            self._inputs[index] = node

    def input(self, index):
        self._alive()
        return self._inputs.get(index)

    def setColor(self, color):
        _check_main_thread("setColor")
        self._alive()
        self._color = color
        self.color_history.append(color)

    def color(self):
        return self._color

    def setUserData(self, key, value):
        _check_main_thread("setUserData")
        self._alive()
        self._user_data[key] = value

    def userData(self, key):
        return self._user_data.get(key)

    def render(self, frame_range=None, **options):
        """Render a rop_image node: write the upstream file node's image as PNG."""
        _check_main_thread("render")
        first, last = frame_range
        _state.renders.append((self._name, self.parm("copoutput").evalAsString(), first, last))
        source = self.input(0)
        if source is None or source.type_name() != "file":
            raise RuntimeError("the fake renders only from a file COP")
        for number in range(int(first), int(last) + 1):
            target = _expand_frame(self.parm("copoutput").evalAsString(), number)
            images.write_png(_expand_frame(source.parm("filename").evalAsString(), number), target)


def _expand_frame(path, number):
    return re.sub(r"\$F(\d?)", lambda match: "%0*d" % (int(match.group(1) or 1), number), path)


def create_asset(spec, parent, name):
    """Create a node that has the inputs and parameters of an asset spec (dd_houdini.interface)."""
    _check_main_thread("create_asset")
    node = parent.createNode(spec.type_name, name)
    node.input_names = list(spec.inputs)
    for parm_spec in spec.parms:
        default = parm_spec.default
        if default is None:
            default = "" if parm_spec.kind in ("string", "multiline") else 0
        node.addParm(Parm(node, parm_spec.name, parm_spec.kind, default, parm_spec.callback, parm_spec.menu_script))
    reader = node.createNode("file", "output_reader")
    reader.parm("filename").set("")
    return node


def node(path):
    current = _state.root
    for part in [part for part in path.split("/") if part]:
        current = current.node(part)
        if current is None:
            return None
    return current


def frame():
    return float(_state.frame)


def setFrame(value):
    _state.frame = value


def isUIAvailable():
    return _state.ui_available


class hipFile:
    @staticmethod
    def path():
        return _state.hip_path


class ui:
    @staticmethod
    def postEventCallback(callback):
        _state.calls.put(callback)

    @staticmethod
    def displayMessage(text, severity=severityType.Message, **options):
        _check_main_thread("displayMessage")
        _state.messages.append(text)
        return 0


def drain():
    _check_main_thread("drain")
    count = 0
    while True:
        try:
            callback = _state.calls.get_nowait()
        except queue.Empty:
            return count
        callback()
        count += 1


def wait_for(predicate, timeout=60.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        drain()
        if predicate():
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached within %.0f s" % timeout)
        time.sleep(interval)
