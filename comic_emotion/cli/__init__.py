"""The ``comic-emotion`` command line: one module per subcommand (``cmd_*.py``), found automatically."""
