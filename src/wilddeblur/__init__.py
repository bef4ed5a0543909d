"""wilddeblur: "Motion Deblurring in the Wild" (Noroozi, Chandramouli, Favaro, GCPR 2017).

Builds a blurry/sharp dataset from high-frame-rate video and trains DeblurNet on it.
"""

__version__ = "0.1.0"
