"""Root conftest: make the collection importable without installing it.

Tests import ``ansible_collections.onefs.dr.plugins.module_utils...``; that needs a directory
``.../ansible_collections/onefs/dr`` on sys.path. The Makefile creates
build/collections/ansible_collections/onefs/dr -> the checkout; this does the same when
plain ``pytest`` is run, and falls back to the source tree of the simulator when the
``onefs_mock`` package is not installed.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "onefs", "dr")

if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    try:
        os.symlink(ROOT, LINK)
    except FileExistsError:  # another xdist worker won the race
        pass
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
# ansible-playbook / ansible-doc started by tests find the collection the same way.
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS)

try:
    import onefs_mock  # noqa: F401  pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, "tests", "mock_api"))
