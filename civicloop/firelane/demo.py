"""The 生命通道 demo: 创业大厦小区 (an old compound) and a high-rise in 太平街道, three
cameras each, lanes drawn on their images, and the registry entries of the demo cars."""

from __future__ import annotations

from collections.abc import Callable


def demo_firelane_load(log: Callable[[str], None]) -> None:
    log("firelane demo: not yet built")
