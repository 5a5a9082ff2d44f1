"""The one exception that crosses the supervisor's modules on purpose."""


class Shutdown(Exception):
    """SIGTERM/SIGINT reached the supervisor: the host is going down. Leave the containers as they are."""
