"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test (``--venv``) bootstraps pip in each new virtualenv by running
https://ci-files.testing.ansible.com/ansible-test/get-pip-<ver>.py, which cannot be reached
from an offline/proxied machine (ansible/ansible#77304). It looks in
~/.ansible/test/cache/get_pip_<ver>.py first; `make sanity` installs this file there.

It does what get-pip does, with the tools at hand: ``ensurepip`` gives the venv a pip, then
that pip installs the packages ansible-test asked for (e.g. ``pip==24.2``) from the
configured index. get-pip-only options (--no-setuptools, --no-wheel) are dropped.
"""

import subprocess
import sys

DROP = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in DROP]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)
