"""edlbench: benchmark short-range MLIPs at charged metal/water interfaces."""

__version__ = "0.1.0"
