"""The login throttle: per client address and name, with a ceiling per client."""

from __future__ import annotations

from domain.login import LoginThrottle

THROTTLE = LoginThrottle()


def test_five_wrong_passwords_for_a_name_from_one_client_refuse_the_sixth_try():
    assert not THROTTLE.refuses(failures_for_name=4, failures_from_client=4)
    assert THROTTLE.refuses(failures_for_name=5, failures_from_client=5)


def test_a_client_spraying_many_names_is_refused_once_over_its_ceiling():
    assert not THROTTLE.refuses(failures_for_name=0, failures_from_client=29)
    assert THROTTLE.refuses(failures_for_name=0, failures_from_client=30)
