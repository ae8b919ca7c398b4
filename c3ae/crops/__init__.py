"""The model's input: three context crops per face (`c3ae.crops.context`).

Their size and scales live here, light to import, for the window that labels them.
"""
CROP_SIZE = 64  # pixels a side
CROP_SCALES = (0.8, 1.2, 1.6)  # crop sides in face sizes: inner face, whole face, head
