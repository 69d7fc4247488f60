"""A fake `nuke` module with just the calls the Deferred Diffusion plug-in makes.

It records nodes, knobs, labels, tile colours, executed Write nodes and
dialogs, so the plug-in's node logic runs headless. Knobs may only be set
on the thread that called `reset()` (the fake main thread), and
`executeInMainThread` queues callbacks that `drain()` or `wait_for()` run.
`execute()` renders Write nodes for real from upstream Read nodes (PNG and
float EXR; movies are written as placeholder files).
"""

import os
import queue
import re
import threading
import time

import images

NUKE_VERSION_MAJOR = 14
NUKE_VERSION_MINOR = 0

STARTLINE = 0x00001000
INVISIBLE = 0x00000400
DISABLED = 0x00000080


class _State:
    def __init__(self):
        self.main_thread = threading.get_ident()
        self.root = Group("Root", "root", None)
        self.stack = [self.root]
        self.calls = queue.Queue()
        self.messages = []
        self.executed = []
        self.menus = {}
        self.plugin_paths = []
        self.script_load_callbacks = []
        self.frame = 1
        self.this_node = []


_state = None


def reset(script_path="", frame=1):
    """Start a fresh session whose main thread is the calling thread."""
    global _state
    _state = _State()
    _state.root.addKnob(File_Knob("name", "name"))
    _state.root["name"].setValue(script_path)
    _state.frame = frame
    return _state


def state():
    return _state


def _check_main_thread(operation):
    if threading.get_ident() != _state.main_thread:
        raise RuntimeError("%s was called from a background thread; use nuke.executeInMainThread" % operation)


# Knobs


class Knob:
    default = None

    def __init__(self, name, label=None, *args):
        self._name = name
        self._label = name if label is None else label
        self._value = self.default
        self._flags = STARTLINE
        self.tooltip = ""
        self.enabled = True
        self.node = None
        self.history = []

    def name(self):
        return self._name

    def label(self):
        return self._label

    def value(self, index=None):
        return self._value

    def getValue(self):
        return self._value

    def convert(self, value):
        return value

    def setValue(self, value, index=None):
        _check_main_thread("%s.setValue" % self._name)
        self._value = self.convert(value)
        self.history.append(self._value)
        return True

    def setFlag(self, flag):
        self._flags |= flag

    def clearFlag(self, flag):
        self._flags &= ~flag

    def getFlag(self, flag):
        return bool(self._flags & flag)

    def setTooltip(self, text):
        self.tooltip = text

    def setEnabled(self, enabled):
        self.enabled = enabled

    def visible(self):
        return not self.getFlag(INVISIBLE)


class Tab_Knob(Knob):
    pass


class String_Knob(Knob):
    default = ""

    def __init__(self, name, label=None, value=""):
        super().__init__(name, label)
        self._value = value

    def convert(self, value):
        return str(value)


class File_Knob(String_Knob):
    pass


class Multiline_Eval_String_Knob(String_Knob):
    pass


class Text_Knob(String_Knob):
    pass


class Int_Knob(Knob):
    default = 0

    def convert(self, value):
        return int(value)

    def setRange(self, minimum, maximum):
        self.range = (minimum, maximum)


class Double_Knob(Knob):
    default = 0.0

    def convert(self, value):
        return float(value)

    def setRange(self, minimum, maximum):
        self.range = (minimum, maximum)


class Boolean_Knob(Knob):
    default = False

    def convert(self, value):
        return bool(value)


class Enumeration_Knob(Knob):
    def __init__(self, name, label, values):
        super().__init__(name, label)
        self._values = list(values)
        self._value = self._values[0] if self._values else ""

    def values(self):
        return list(self._values)

    def setValues(self, values):
        _check_main_thread("%s.setValues" % self._name)
        self._values = list(values)
        if self._value not in self._values:
            self._value = self._values[0] if self._values else ""

    def convert(self, value):
        if isinstance(value, int):
            return self._values[value]
        if value not in self._values:
            raise ValueError("%r is not an entry of the %s menu %s" % (value, self._name, self._values))
        return value


class PyScript_Knob(Knob):
    def __init__(self, name, label=None, command=""):
        super().__init__(name, label)
        self.command = command

    def execute(self):
        """Run the knob's script as Nuke does when the button is pressed."""
        _check_main_thread("%s.execute" % self._name)
        _state.this_node.append(self.node)
        try:
            exec(self.command, {"nuke": __import__("nuke")})
        finally:
            _state.this_node.pop()


class Button_Knob(Knob):
    """A built-in button such as a Read's reload; counts its presses."""

    def __init__(self, name, label=None):
        super().__init__(name, label)
        self.presses = 0

    def execute(self):
        _check_main_thread("%s.execute" % self._name)
        self.presses += 1
        if self.node is not None:
            self.node.on_button(self._name)


class Link_Knob(Knob):
    def makeLink(self, node_name, knob_name):
        self.link = (node_name, knob_name)


# Nodes

_NODE_KNOBS = {
    "Read": [
        ("file", File_Knob),
        ("first", Int_Knob),
        ("last", Int_Knob),
        ("origfirst", Int_Knob),
        ("origlast", Int_Knob),
        ("on_error", lambda name: Enumeration_Knob(name, name, ["error", "black", "checkerboard", "nearest frame"])),
        ("colorspace", String_Knob),
        ("reload", Button_Knob),
    ],
    "Write": [
        ("file", File_Knob),
        ("file_type", String_Knob),
        ("datatype", String_Knob),
        ("colorspace", String_Knob),
        ("channels", String_Knob),
        ("mov64_codec", String_Knob),
        ("mov64_fps", Double_Knob),
    ],
    "Input": [("number", Int_Knob)],
    "TimeOffset": [("time_offset", Int_Knob)],
}


class Node:
    def __init__(self, node_class, name, parent):
        self._class = node_class
        self._name = name
        self._parent = parent
        self._knobs = {}
        self._inputs = {}
        self._deleted = False
        self.xy = (0, 0)
        for knob_name, factory in [("label", String_Knob), ("tile_color", Int_Knob)] + _NODE_KNOBS.get(node_class, []):
            self.addKnob(factory(knob_name))

    def _alive(self):
        if self._deleted:
            raise ValueError("A PythonObject is not attached to a node")

    def Class(self):
        return self._class

    def name(self):
        self._alive()
        return self._name

    def setName(self, name, uniquify=False, updateExpressions=False):
        self._alive()
        self._name = name

    def fullName(self):
        self._alive()
        if self._parent is None or self._parent._parent is None:
            return self._name
        return self._parent.fullName() + "." + self._name

    def parent(self):
        return self._parent

    def knob(self, name):
        self._alive()
        return self._knobs.get(name)

    def knobs(self):
        return dict(self._knobs)

    def __getitem__(self, name):
        knob = self.knob(name)
        if knob is None:
            raise NameError("knob %s does not exist on %s" % (name, self._name))
        return knob

    def addKnob(self, knob):
        knob.node = self
        self._knobs[knob.name()] = knob

    def setInput(self, index, node):
        self._alive()
        if node is None:
            self._inputs.pop(index, None)
        else:
            self._inputs[index] = node
        return True

    def input(self, index):
        self._alive()
        return self._inputs.get(index)

    def inputs(self):
        return max(self._inputs) + 1 if self._inputs else 0

    def setXYpos(self, x, y):
        self.xy = (x, y)

    def on_button(self, name):
        if self._class == "Read" and name == "reload":
            _reload_read(self)


class Group(Node):
    def __init__(self, node_class, name, parent):
        super().__init__(node_class, name, parent)
        self.children = []

    def begin(self):
        _check_main_thread("%s.begin" % self._name)
        _state.stack.append(self)
        return self

    def end(self):
        if _state.stack[-1] is not self:
            raise RuntimeError("%s.end() without a matching begin()" % self._name)
        _state.stack.pop()

    def __enter__(self):
        return self.begin()

    def __exit__(self, *exc_info):
        self.end()

    def node(self, name):
        for child in self.children:
            if child._name == name:
                return child
        return None


def _current_group():
    return _state.stack[-1]


def _unique(group, base):
    index = 1
    while group.node("%s%d" % (base, index)) is not None:
        index += 1
    return "%s%d" % (base, index)


def _create(node_class, name=None):
    _check_main_thread("creating a %s node" % node_class)
    group = _current_group()
    node_type = Group if node_class == "Group" else Node
    node = node_type(node_class, name or _unique(group, node_class), group)
    if node_class == "Input":
        node["number"]._value = len([child for child in group.children if child._class == "Input"])
    group.children.append(node)
    return node


def createNode(node_class, knobs="", inpanel=True):
    return _create(node_class)


class _Nodes:
    def __getattr__(self, node_class):
        def make(**knob_values):
            node = _create(node_class, knob_values.pop("name", None))
            for knob_name, value in knob_values.items():
                node[knob_name].setValue(value)
            return node

        return make


nodes = _Nodes()


def toNode(name):
    group = _current_group()
    parts = name.split(".")
    if parts[0] == "root":
        group, parts = _state.root, parts[1:]
    node = group
    for part in parts:
        if not isinstance(node, Group):
            return None
        node = node.node(part)
        if node is None:
            return None
    return node


def allNodes(filter=None, group=None, recurseGroups=False):
    found = []

    def visit(parent):
        for child in parent.children:
            if filter is None or child.Class() == filter:
                found.append(child)
            if recurseGroups and isinstance(child, Group):
                visit(child)

    visit(group or _current_group())
    return found


def delete(node):
    _check_main_thread("nuke.delete")
    node._alive()
    node._parent.children.remove(node)
    node._deleted = True


def root():
    return _state.root


def frame(value=None):
    if value is not None:
        _state.frame = int(value)
    return _state.frame


def thisNode():
    return _state.this_node[-1]


def message(text):
    _check_main_thread("nuke.message")
    _state.messages.append(text)


def pluginAddPath(path, addToSysPath=True):
    _state.plugin_paths.append(path)


def pluginPath():
    return list(_state.plugin_paths)


def warning(text):
    _state.messages.append("warning: " + text)


def addOnScriptLoad(callback, args=(), kwargs=None, nodeClass="Root"):
    _state.script_load_callbacks.append(callback)


class Menu:
    def __init__(self, name):
        self.name = name
        self.items = {}

    def addMenu(self, name, icon=None):
        return self.items.setdefault(name, Menu(name))

    def addCommand(self, name, command, shortcut="", icon=""):
        self.items[name] = command
        return command

    def findItem(self, name):
        return self.items.get(name)


def menu(name):
    return _state.menus.setdefault(name, Menu(name))


# Main-thread queue


def executeInMainThread(call, args=(), kwargs=None):
    if not isinstance(args, tuple):
        args = (args,)
    _state.calls.put((call, args, kwargs or {}))


def drain():
    """Run the queued main-thread callbacks; return how many ran."""
    _check_main_thread("drain")
    count = 0
    while True:
        try:
            call, args, kwargs = _state.calls.get_nowait()
        except queue.Empty:
            return count
        call(*args, **kwargs)
        count += 1


def wait_for(predicate, timeout=60.0, interval=0.05):
    """Run main-thread callbacks until `predicate()` is true; raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        drain()
        if predicate():
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached within %.0f s" % timeout)
        time.sleep(interval)


# Rendering


def _frame_path(pattern, frame_number):
    return re.sub(r"#+", lambda match: "%0*d" % (len(match.group(0)), frame_number), pattern)


def _source_file(node, frame_number):
    """Follow inputs upstream to a Read node and return its file at `frame_number`."""
    while node is not None:
        if node.Class() == "Read":
            path = _frame_path(node["file"].value(), frame_number)
            if not os.path.isfile(path):
                raise RuntimeError("Read %s: %s does not exist" % (node.name(), path))
            return path
        if node.Class() == "Input":
            group = node.parent()
            node = group.input(node["number"].value())
        else:
            node = node.input(0)
    raise RuntimeError("nothing is connected upstream")


def execute(node, first, last, incr=1):
    """Render a Write node over [first, last] as Nuke's execute does."""
    _check_main_thread("nuke.execute")
    if node.Class() != "Write":
        raise RuntimeError("%s is not a Write node" % node.name())
    _state.executed.append((node.name(), node["file"].value(), node["file_type"].value(), first, last))
    file_type = node["file_type"].value()
    channels = node["channels"].value() or "rgb"
    if file_type == "mov":
        source = _source_file(node.input(0), first)
        target = _frame_path(node["file"].value(), first)
        with open(target, "wb") as movie:
            movie.write(b"FAKE-MOV frames=%d source=%s" % (last - first + 1, os.path.basename(source).encode()))
        return
    for frame_number in range(first, last + 1, incr):
        source = _source_file(node.input(0), frame_number)
        target = _frame_path(node["file"].value(), frame_number)
        if file_type == "png":
            images.write_png(source, target, channels)
        elif file_type == "exr":
            width, height, rows = images.load_rgb_floats(source, channels)
            if not source.lower().endswith(".exr"):
                rows = [[tuple(images.srgb_to_linear(value) for value in pixel) for pixel in row] for row in rows]
            images.write_exr(target, width, height, rows)
        else:
            raise RuntimeError("the fake renders png, exr and mov, not %r" % file_type)


def _reload_read(read):
    path = read["file"].value()
    match = re.search(r"frames=(\d+)", _peek(path)) if path.lower().endswith((".mp4", ".mov")) else None
    if path.lower().endswith((".mp4", ".mov")):
        frames = int(match.group(1)) if match else 1
        for knob_name, value in (("first", 1), ("origfirst", 1), ("last", frames), ("origlast", frames)):
            read[knob_name].setValue(value)


def _peek(path):
    try:
        with open(path, "rb") as source:
            return source.read(200).decode("latin-1")
    except OSError:
        return ""
