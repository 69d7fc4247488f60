from enum import Enum


class JobEventType2Kind(str, Enum):
    PROGRESS = "progress"

    def __str__(self) -> str:
        return str(self.value)
