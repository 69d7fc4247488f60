from enum import Enum


class KeySource(str, Enum):
    CONFIG_FILE = "config_file"
    ENVIRONMENT = "environment"
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
