"""Loopback ports for the stack's servers, taken from a range (STACK_PORTS, default 18200-18299)."""

import os
import socket

DEFAULT_RANGE = "18200-18299"
_taken: set[int] = set()


def free_port() -> int:
    """A port in STACK_PORTS that nothing listens on and this process has not handed out yet."""
    low, high = (int(n) for n in os.environ.get("STACK_PORTS", DEFAULT_RANGE).split("-"))
    for port in range(low, high + 1):
        if port in _taken:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError(f"no free port in STACK_PORTS={low}-{high}")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
