"""Image helpers for the fake hosts: read pictures with Pillow, write and read float EXR.

The EXR writer and reader handle only what the tests need: one part,
uncompressed scanlines, FLOAT channels B, G, R (and A).
"""

import struct

from PIL import Image

EXR_MAGIC = 20000630


def srgb_to_linear(value):
    if value <= 0.04045:
        return value / 12.92
    return ((value + 0.055) / 1.055) ** 2.4


def load_rgb_floats(path, channels="rgb"):
    """Return (width, height, rows) with rows of (r, g, b[, a]) floats in 0..1, as stored (sRGB)."""
    if path.lower().endswith(".exr"):
        width, height, rows = read_exr(path)
        return width, height, rows
    image = Image.open(path)
    mode = "RGBA" if channels == "rgba" else "RGB"
    image = image.convert(mode)
    width, height = image.size
    data = list(image.getdata())
    rows = []
    for y in range(height):
        rows.append([tuple(channel / 255.0 for channel in pixel) for pixel in data[y * width : (y + 1) * width]])
    return width, height, rows


def write_png(source_path, target_path, channels="rgb"):
    image = Image.open(source_path)
    image = image.convert("RGBA" if channels == "rgba" else "RGB")
    image.save(target_path, format="PNG")


def _attribute(name, kind, value):
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value


def write_exr(path, width, height, rows):
    """Write linear float pixels `rows[y][x] = (r, g, b[, a])` as an uncompressed EXR."""
    has_alpha = len(rows[0][0]) == 4
    names = ["A", "B", "G", "R"] if has_alpha else ["B", "G", "R"]
    index = {"R": 0, "G": 1, "B": 2, "A": 3}
    channel_list = b""
    for name in names:
        channel_list += name.encode() + b"\0" + struct.pack("<iB3xii", 2, 0, 1, 1)
    channel_list += b"\0"
    box = struct.pack("<iiii", 0, 0, width - 1, height - 1)
    header = struct.pack("<ii", EXR_MAGIC, 2)
    header += _attribute("channels", "chlist", channel_list)
    header += _attribute("compression", "compression", b"\0")
    header += _attribute("dataWindow", "box2i", box)
    header += _attribute("displayWindow", "box2i", box)
    header += _attribute("lineOrder", "lineOrder", b"\0")
    header += _attribute("pixelAspectRatio", "float", struct.pack("<f", 1.0))
    header += _attribute("screenWindowCenter", "v2f", struct.pack("<ff", 0.0, 0.0))
    header += _attribute("screenWindowWidth", "float", struct.pack("<f", 1.0))
    header += b"\0"
    line_size = width * 4 * len(names)
    table_start = len(header)
    first_block = table_start + 8 * height
    offsets = b"".join(struct.pack("<Q", first_block + y * (8 + line_size)) for y in range(height))
    blocks = []
    for y, row in enumerate(rows):
        data = b"".join(struct.pack("<%df" % width, *[pixel[index[name]] for pixel in row]) for name in names)
        blocks.append(struct.pack("<ii", y, len(data)) + data)
    with open(path, "wb") as target:
        target.write(header + offsets + b"".join(blocks))


def read_exr(path):
    """Read an EXR written by write_exr; return (width, height, rows of (r, g, b[, a]))."""
    with open(path, "rb") as source:
        data = source.read()
    magic, _version = struct.unpack_from("<ii", data, 0)
    if magic != EXR_MAGIC:
        raise ValueError("%s is not an EXR file" % path)

    position = 8
    attributes = {}
    while data[position] != 0:
        end = data.index(b"\0", position)
        name = data[position:end].decode()
        kind_end = data.index(b"\0", end + 1)
        size = struct.unpack_from("<i", data, kind_end + 1)[0]
        attributes[name] = data[kind_end + 5 : kind_end + 5 + size]
        position = kind_end + 5 + size
    position += 1

    if attributes["compression"] != b"\0":
        raise ValueError("read_exr reads only uncompressed files")
    xmin, ymin, xmax, ymax = struct.unpack("<iiii", attributes["dataWindow"])
    width, height = xmax - xmin + 1, ymax - ymin + 1

    names = []
    channels = attributes["channels"]
    cursor = 0
    while channels[cursor] != 0:
        end = channels.index(b"\0", cursor)
        names.append(channels[cursor:end].decode())
        cursor = end + 1 + 16

    position += 8 * height
    rows = []
    for _ in range(height):
        _y, size = struct.unpack_from("<ii", data, position)
        position += 8
        planes = {}
        for offset, name in enumerate(names):
            planes[name] = struct.unpack_from("<%df" % width, data, position + offset * width * 4)
        position += size
        order = ["R", "G", "B"] + (["A"] if "A" in planes else [])
        rows.append([tuple(planes[name][x] for name in order) for x in range(width)])
    return width, height, rows
