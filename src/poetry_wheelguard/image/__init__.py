"""Container images read as files: layers applied into a temporary sysroot (:mod:`.layers`)."""
