"""CLI subcommands (see ``safealign.cli``)."""
