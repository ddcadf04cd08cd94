"""The kit's version: the one number the wheel, ``--version``, libdoc and CHANGELOG.md share.

Kept in a module of its own, with nothing else in it, so that the build reads it
(``pyproject.toml``) and ``tasks.py setup`` reinstalls the checkout when it changes.
"""

__version__ = "1.1.0"
