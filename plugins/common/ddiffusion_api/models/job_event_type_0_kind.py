from enum import Enum


class JobEventType0Kind(str, Enum):
    STATE = "state"

    def __str__(self) -> str:
        return str(self.value)
