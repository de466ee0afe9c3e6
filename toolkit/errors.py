"""Program failures carry a Vietnamese message; data problems are findings, not exceptions."""


class BaocaoError(Exception):
    """A failure the user can act on: the message is shown as is, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
