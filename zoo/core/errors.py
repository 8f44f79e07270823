import argparse


class ZooError(Exception):
    """A problem with the user's input or files, reported as one line, without a traceback."""


class ArgumentParser(argparse.ArgumentParser):
    """Command-line mistakes are one-line errors too (`--help` shows the usage)."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")
