"""Red team: telling which staff logins exist from the sign-in answers.

The password of an unknown login is checked against a dummy hash (no timing difference),
but the lockout told: after five wrong passwords an existing account answered «locked»,
an unknown (or disabled) login «wrong» for ever — five requests per guessed login listed
the accounts. Unknown and disabled logins now lock the same way (in memory: nothing about
them is stored)."""

from __future__ import annotations

import pytest

from gateway.config import Config
from gateway.store.db import Database
from gateway.store.staff_users import LOCKOUT_SECONDS, MAX_FAILURES, StaffUsers
from tests.servers.staff import PASSWORD, add_staff


def _answers(users: StaffUsers, login: str, now: float) -> list[str | None]:
    return [users.sign_in(login, "неверный-пароль", now=now).problem for _ in range(MAX_FAILURES + 1)]


#: What an existing account answers to wrong passwords in a row
#: (``test_repeated_failures_lock_the_account_even_for_the_right_password``).
EXISTING = ["wrong"] * (MAX_FAILURES - 1) + ["locked", "locked"]


@pytest.mark.parametrize("login", ["nobody", "petrov"], ids=["unknown", "disabled"])
def test_unknown_and_disabled_logins_answer_as_an_existing_account(config: Config, login: str) -> None:
    users = StaffUsers(Database(config.storage.data_dir / "gateway.sqlite3"))
    if login == "petrov":
        assert users.add("petrov", "Петров Пётр", PASSWORD) and users.disable("petrov")
    assert _answers(users, login, 1000.0) == EXISTING


def test_control_an_existing_account_answers_so(config: Config) -> None:
    users = add_staff(config)
    assert _answers(users, "ivanova", 1000.0) == EXISTING


def test_control_a_phantom_lock_ends_like_a_real_one(config: Config) -> None:
    users = StaffUsers(Database(config.storage.data_dir / "gateway.sqlite3"))
    _answers(users, "nobody", 1000.0)
    assert users.sign_in("nobody", "x", now=1000.0 + LOCKOUT_SECONDS + 1).problem == "wrong"
