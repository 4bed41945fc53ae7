"""Build msgspec's conversion plans of every Struct type up front, in one thread.

msgspec builds a type's plan on its first use; two threads doing so at once can crash
the process (reproduced here with msgspec 0.22: 8 of 40 fresh processes converting one
Struct from 16 threads at once died of SIGSEGV; 0 of 40 once the plan was built first).
Every process calls `prepare()` before it serves requests or messages.
"""

from __future__ import annotations

import msgspec


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    stack = [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


def prepare() -> int:
    """Build the plan of every Struct type imported so far. Returns how many."""
    prepared = 0
    for struct in _subclasses(msgspec.Struct):
        if getattr(struct, "__parameters__", ()):  # generic: planned per use
            continue
        try:
            msgspec.json.Decoder(struct)
        except (TypeError, ValueError):  # a type msgspec cannot decode (never converted)
            continue
        prepared += 1
    return prepared
