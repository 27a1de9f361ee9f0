"""TruncatedTL: cut a pretrained CNN where your data needs it, train it, prove it.

The public API (:mod:`truncatedtl.api`) is loaded on first use, so that importing a part of the package stays
light."""

__all__ = ["create_model", "cut_points", "load_backbone", "load_run", "model_spec", "profile", "search", "svcca",
           "train"]


def __getattr__(name: str):
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'truncatedtl' has no attribute {name!r}")
