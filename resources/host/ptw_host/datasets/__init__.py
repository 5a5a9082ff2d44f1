"""The dataset inspector (`ptw-host.pyz data`): answers about the datasets of a workspace where they live."""
