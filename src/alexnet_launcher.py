"""The ``alexnet`` console script.

``import alexnet`` imports Keras to register the package's layers (see
``alexnet/__init__.py``); that takes seconds, which ``alexnet --help`` should
not. The command therefore imports the package with ``ALEXNET_LAZY_IMPORT=1``
and removes the variable again, so that no child process inherits it; each
subcommand imports what it uses.
"""

import os


def main(argv=None):
    previous = os.environ.get("ALEXNET_LAZY_IMPORT")
    os.environ["ALEXNET_LAZY_IMPORT"] = "1"
    try:
        from alexnet.cli import main as cli_main
    finally:
        if previous is None:
            del os.environ["ALEXNET_LAZY_IMPORT"]
        else:
            os.environ["ALEXNET_LAZY_IMPORT"] = previous
    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
