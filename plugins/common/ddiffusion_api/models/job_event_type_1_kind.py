from enum import Enum


class JobEventType1Kind(str, Enum):
    LOG = "log"

    def __str__(self) -> str:
        return str(self.value)
