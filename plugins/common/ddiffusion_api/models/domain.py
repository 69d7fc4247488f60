from enum import Enum


class Domain(str, Enum):
    IMAGES = "images"
    TEXTS = "texts"
    VIDEOS = "videos"
    WORKFLOWS = "workflows"

    def __str__(self) -> str:
        return str(self.value)
