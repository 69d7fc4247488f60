from enum import Enum


class SystemPrompt(str, Enum):
    BASE = "BASE"
    IMAGE_OPTIMIZER = "IMAGE_OPTIMIZER"
    NONE = "NONE"
    VIDEO_OPTIMIZER = "VIDEO_OPTIMIZER"
    VIDEO_TRANSITION = "VIDEO_TRANSITION"

    def __str__(self) -> str:
        return str(self.value)
