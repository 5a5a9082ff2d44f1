"""The checkpoint inspector (`ptw-host.pyz inspect`): finds checkpoints and diffs them where they are."""
