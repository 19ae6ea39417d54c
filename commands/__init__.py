"""The command line's commands, one module each; ``cli.py`` builds the parser from them and
runs the one asked for. Each module's ``add_parser(commands)`` registers its command(s) with
``set_defaults(run=...)``; a run returns what is printed as JSON.

Exit codes (:mod:`commands.common`): 0 done, 2 bad input (the message names the file, row and
field), 3 a dataset change built on a version that is no longer the newest (nothing written),
70 an unexpected error (a bug; no traceback is shown).
"""
