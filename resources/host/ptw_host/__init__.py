"""PostTrain Workbench's host side: one package, shipped to a GPU host as one file (a stdlib zipapp).

Everything the app runs on a host lives here, standard library only (numpy is used where the host has it):
``python3 ptw-host.pyz <subcommand> ...``. The subcommands are listed in ``__main__.py``; each is a module
with a ``main(argv) -> int``. The app builds the zipapp from this folder (src/main/host-package/).
"""
