from enum import Enum


class Provider(str, Enum):
    LOCAL = "local"
    OPENAI = "openai"
    REPLICATE = "replicate"

    def __str__(self) -> str:
        return str(self.value)
