"""SupportDesk: a terminal console in which a support team answers customer email."""

__all__ = ["__version__"]

__version__ = "0.1.0"
