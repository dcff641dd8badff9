"""Turn a distillation checkpoint into a student-only checkpoint that plain MMSeg loads.

    python tools/export_student.py WORK_DIR/iter_80000.pth OUT_DIR --name CONFIG_NAME

Writes OUT_DIR/<CONFIG_NAME>_<date>-<sha256[:8]>.pth with {'meta', 'state_dict'}; the teacher,
connectors and loss modules are dropped and the 'architecture.' prefix is removed from the
start of each student key. Test it with MMSeg's own tools and the *student's* config.
"""
import argparse
import os.path as osp

import mmseg_distill  # noqa: F401  (torch>=2.6 safe loading of MMEngine checkpoints)
from mmseg_distill.utils import export_student


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('out_dir')
    parser.add_argument('--name', help='config name for the file (default: from the path)')
    args = parser.parse_args()
    name = args.name or osp.basename(osp.dirname(osp.abspath(args.checkpoint)))
    print(export_student(args.checkpoint, args.out_dir, name))


if __name__ == '__main__':
    main()
