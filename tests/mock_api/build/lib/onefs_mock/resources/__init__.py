"""Resource modules: each registers its routes and its state area on import.

``load_all()`` imports the core areas first, in dependency order (the file
tree must exist before zones create their paths and before SyncIQ copies
files), then every other module of this package in name order, so a new
resource module needs no edit here.
"""

import importlib
import pkgutil

CORE = ("cluster", "session", "namespace", "zones", "synciq")

_LOADED = False


def load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    for name in CORE:
        importlib.import_module(__name__ + "." + name)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name not in CORE and not info.name.startswith("_"):
            importlib.import_module(__name__ + "." + info.name)
    _LOADED = True
