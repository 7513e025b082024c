"""pilotzones: the yearly evaluation cycle of a regional health programme's pilot zones."""

__version__ = "0.1.0"
