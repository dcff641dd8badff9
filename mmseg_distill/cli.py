"""``mmseg-distill``: the project's tools for a user who installed the package (no clone).

    mmseg-distill pair TEACHER STUDENT [...]       tools/inspect_pair.py
    mmseg-distill search LEAF [...]                tools/search_weights.py
    mmseg-distill export CHECKPOINT OUT_DIR [...]  tools/export_student.py
    mmseg-distill transfer TEACHER CKPT [...]      tools/transfer.py
    mmseg-distill calibrate CONFIG [...]           tools/calibrate_weights.py

Each command runs the tool of that name as it is installed with the package
(``mmseg_distill/.mim/tools``: copies in a wheel, links to ``tools/`` in an editable install,
the same files ``mim`` finds), with the arguments that follow; ``mmseg-distill COMMAND --help``
gives its options. ``mim run mmseg_distill ...`` is refused by mim itself (it runs the tools
of OpenMMLab's own codebases only), hence this command.
"""
import os.path as osp
import runpy
import sys
from typing import List, Optional

COMMANDS = {'pair': 'inspect_pair.py', 'search': 'search_weights.py',
            'export': 'export_student.py', 'transfer': 'transfer.py',
            'calibrate': 'calibrate_weights.py'}


def tool_path(command: str) -> str:
    """The installed tool file of ``command``."""
    return osp.join(osp.dirname(osp.abspath(__file__)), '.mim', 'tools', COMMANDS[command])


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help') or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr if argv and argv[0] not in ('-h', '--help')
              else sys.stdout)
        return 0 if argv and argv[0] in ('-h', '--help') else 2
    path = tool_path(argv[0])
    if not osp.isfile(path):
        print(f'mmseg-distill: {path} is missing: the package was installed without its '
              'tools (reinstall it with pip)', file=sys.stderr)
        return 2
    saved = sys.argv
    sys.argv = [path] + argv[1:]  # runpy sets argv[0] to the tool's path anyway
    try:
        runpy.run_path(path, run_name='__main__')
    except SystemExit as done:  # the tools end with sys.exit(code)
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.argv = saved
    return 0


if __name__ == '__main__':
    sys.exit(main())
