"""The ``comic-emotion`` command line: one module per subcommand (``cmd_*.py``), found automatically."""


class CliError(Exception):
    """An error to print as one line, with its exit code.

    Defined here rather than in ``main`` so that ``python -m comic_emotion.cli.main`` (which loads
    ``main`` a second time as ``__main__``) still catches the errors the subcommands raise.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
