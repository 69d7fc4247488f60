from enum import Enum


class PatchClassType(str, Enum):
    LOADIMAGE = "LoadImage"
    LOADVIDEO = "LoadVideo"
    PRIMITIVEFLOAT = "PrimitiveFloat"
    PRIMITIVEINT = "PrimitiveInt"
    PRIMITIVESTRINGMULTILINE = "PrimitiveStringMultiline"

    def __str__(self) -> str:
        return str(self.value)
