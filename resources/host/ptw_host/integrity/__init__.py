"""The integrity checks (`ptw-host.pyz integrity`, issue 13): deterministic reward-hacking checks over a run folder."""
