from enum import Enum


class PullStatus(str, Enum):
    DONE = "done"
    DOWNLOADING = "downloading"
    FAILED = "failed"

    def __str__(self) -> str:
        return str(self.value)
