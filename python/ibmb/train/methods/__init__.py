"""Training methods, one module each, named in one place:
:data:`ibmb.train.methods.base.REGISTRY` (see :mod:`ibmb.train` for how to
add one)."""
from ibmb.train.methods.base import (INSTALL_HINT, REGISTRY, BaseMethod, InferenceBatches, Method, Unavailable,
                                     create, get, names, unavailable_reason)

__all__ = ["Method", "BaseMethod", "InferenceBatches", "Unavailable", "REGISTRY", "INSTALL_HINT", "names", "get",
           "create", "unavailable_reason"]
