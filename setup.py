"""Packaging for mmseg_distill.

Besides the package, two things OpenMMLab users rely on are installed:
- ``mmseg_distill/.mim/{configs,tools}`` so that ``mim`` finds the project's configs (copies in a
  wheel, symlinks in an editable install, as OpenMMLab projects do);
- ``mmseg_distill_boot.pth`` next to the packages, which runs the start-up fixes of
  ``mmseg_distill_boot`` in every interpreter of the environment (see that module).
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

HERE = osp.dirname(osp.abspath(__file__))
PTH_FILE = 'mmseg_distill_boot.pth'
MIM_ITEMS = ('configs', 'tools', 'model-index.yml')
# the tools a user of the plugin runs (``mmseg-distill``, mim); the others under tools/ run the
# project's lab (benchmarks/, not installed) or set up a clone, and stay out of a wheel
PLUGIN_TOOLS = ('inspect_pair.py', 'search_weights.py', 'export_student.py', 'transfer.py',
                'calibrate_weights.py', 'visualize_similarity.py')


def read_version():
    namespace = {}
    with open(osp.join(HERE, 'mmseg_distill', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(name):
    lines = []
    with open(osp.join(HERE, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                lines.append(line)
    return lines


def add_mim_extension(editable):
    """Expose configs/tools under ``mmseg_distill/.mim``: links when editable, copies otherwise."""
    mim_dir = osp.join(HERE, 'mmseg_distill', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for item in MIM_ITEMS:
        src, dst = osp.join(HERE, item), osp.join(mim_dir, item)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if editable and sys.platform != 'win32':
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif item == 'tools':
            os.makedirs(dst)
            for name in PLUGIN_TOOLS:
                shutil.copyfile(osp.join(src, name), osp.join(dst, name))
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


class BuildPyWithStartupHook(build_py):
    """build_py that also ships the start-up ``.pth`` at the top of site-packages."""

    def run(self):
        add_mim_extension(editable=bool(getattr(self, 'editable_mode', False)))
        super().run()
        self.copy_file(osp.join(HERE, PTH_FILE), osp.join(self.build_lib, PTH_FILE))

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [osp.join(self.build_lib, PTH_FILE)]


class EditableWheelWithStartupHook(editable_wheel):
    """Editable installs (PEP 660) skip build_lib extras: put the ``.pth`` in the wheel root."""

    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):
        result = super()._run_build_commands(dist_name, unpacked_wheel, build_lib, tmp_dir)
        shutil.copyfile(osp.join(HERE, PTH_FILE), osp.join(unpacked_wheel, PTH_FILE))
        return result


# Ranges, not the tested pins (requirements/constraints.txt): installed into a user's own
# environment, the package keeps their (CUDA) torch, compiled mmcv and OpenMMLab versions.
# torch >= 2.0: the label recorder's forward pre-hook takes keyword arguments (with_kwargs).
install_requires = (['torch>=2.0'] + read_requirements('runtime.txt') +
                    read_requirements('mmcv.txt') + read_requirements('openmmlab.txt'))

setup(
    name='mmseg_distill',
    version=read_version(),
    description='Knowledge distillation for semantic segmentation as MMRazor/MMSeg config',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['mmseg_distill', 'mmseg_distill.*']),
    py_modules=['mmseg_distill_boot'],
    include_package_data=True,
    package_data={'mmseg_distill': ['.mim/**/*', '.mim/*']},
    install_requires=install_requires,
    extras_require={'tests': read_requirements('tests.txt'),
                    'figures': read_requirements('figures.txt'),
                    'mim': read_requirements('mim-nodeps.txt') + read_requirements('mim.txt')},
    # the tools for a pip user, without a clone (mmseg_distill/cli.py)
    entry_points={'console_scripts': ['mmseg-distill = mmseg_distill.cli:main']},
    cmdclass={'build_py': BuildPyWithStartupHook,
              'editable_wheel': EditableWheelWithStartupHook},
    zip_safe=False,
)
