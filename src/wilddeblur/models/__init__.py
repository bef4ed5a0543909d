"""The networks: DeblurNet (the paper's §3, Table 1) and NAFNet, one ``*_arch.py`` each, built by
name through :mod:`wilddeblur.models.registry` (one entry per network, importable without
PyTorch)."""
