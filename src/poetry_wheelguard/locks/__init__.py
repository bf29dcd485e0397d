"""Lock files other than poetry.lock, read into one format-neutral model
(:mod:`.neutral`): uv.lock (:mod:`.uv`) and PEP 751 pylock.toml (:mod:`.pylock`)."""
