"""When logging in is refused for a while: wrong passwords are counted per client address
and user name, so a stranger guessing at `finance` locks out only themselves."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict


class LoginThrottle(BaseModel):
    """How many wrong passwords a client may try, for one name and over all names."""

    model_config = ConfigDict(frozen=True)

    max_failures: int = 5  # per (client address, user name)
    max_client_failures: int = 30  # per client address over all names: password spraying
    window: timedelta = timedelta(minutes=15)

    def refuses(self, failures_for_name: int, failures_from_client: int) -> bool:
        """Whether one more try is refused, given the failures (claimed tries included) of
        this client for this name and for any name within the window."""
        return (
            failures_for_name >= self.max_failures
            or failures_from_client >= self.max_client_failures
        )
