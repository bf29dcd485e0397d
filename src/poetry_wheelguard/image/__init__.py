"""Images: what a container image's root filesystem holds.

- :mod:`.rootfs`: a root filesystem -> its target interpreter and site directories.
- :mod:`.layers`: container images read as files (OCI layout, OCI/docker-archive tarball,
  ``docker:NAME``), layers applied into a temporary sysroot.
"""
