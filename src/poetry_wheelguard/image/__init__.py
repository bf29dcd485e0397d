"""Images: what a container image's root filesystem holds.

- :mod:`.rootfs`: a root filesystem -> its target interpreter and site directories.
"""
