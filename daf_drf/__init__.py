"""daf_drf: async views, permissions, throttles and exception handling for DRF."""

__all__ = ["__version__"]

__version__ = "0.1.0.dev0"
