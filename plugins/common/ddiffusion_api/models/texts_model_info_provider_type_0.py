from enum import Enum


class TextsModelInfoProviderType0(str, Enum):
    LOCAL = "local"
    OPENAI = "openai"
    REPLICATE = "replicate"

    def __str__(self) -> str:
        return str(self.value)
