"""ClassMood: the `classmood` command line (one CLI, many subcommands)."""

__version__ = "0.1.0"
