"""Exceptions a user can act on. The CLI and stage runner turn them into one line and an exit code."""


class SafealignError(Exception):
    """Base class: an error whose message names what, where and what was expected."""

    exit_code = 1


class ConfigError(SafealignError):
    """params.yaml (or a CLI option) is invalid: wrong type, missing or unknown key."""

    exit_code = 2


class DataValidationError(SafealignError):
    """A Great Expectations suite failed at a stage boundary."""


class InputError(SafealignError):
    """An input file or directory is missing, empty, corrupt or of an unknown kind."""
