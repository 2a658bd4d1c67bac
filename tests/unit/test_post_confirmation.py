"""The Cognito post-confirmation trigger against moto: a confirmed sign-up joins `pro`; a confirmed password reset
changes nothing; the event is always answered (Cognito reads the answer)."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local.template import functions, load_template
from pass_culture import aws
from pass_culture.settings import get_settings
from tests.events import FakeContext

PASSWORD = "Culture-Locale-2026"


@pytest.fixture
def trigger(moto_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The function's module with the environment the template gives it (moto in-process behind)."""
    function = next(f for f in functions(load_template()) if f.logical_id == "PostConfirmationFunction")
    for name, value in function.raw_environment.items():
        monkeypatch.setenv(name, str(moto_stack.resolver.resolve(value)))
    get_settings.cache_clear()
    aws.client.cache_clear()
    yield importlib.import_module(function.module_name)
    aws.client.cache_clear()
    get_settings.cache_clear()


def signed_up(moto_stack: Any, email: str) -> str:
    """A person who signed up and confirmed (moto's sign-up in a pool whose users sign in with their email): their
    sub, which is Cognito's `userName` in the trigger's event."""
    cognito = boto3.client("cognito-idp", region_name="eu-west-3")
    answer = cognito.sign_up(
        ClientId=moto_stack.ref("UserPoolClient"),
        Username=email,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "given_name", "Value": "Aurore"}],
    )
    cognito.admin_confirm_sign_up(UserPoolId=moto_stack.ref("UserPool"), Username=email)
    return str(answer["UserSub"])


def event(moto_stack: Any, sub: str, email: str, source: str) -> dict[str, Any]:
    """Cognito's PostConfirmation event (version 1)."""
    return {
        "version": "1",
        "region": "eu-west-3",
        "userPoolId": moto_stack.ref("UserPool"),
        "userName": sub,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": moto_stack.ref("UserPoolClient")},
        "triggerSource": source,
        "request": {
            "userAttributes": {"sub": sub, "email": email, "email_verified": "true", "cognito:user_status": "CONFIRMED"}
        },
        "response": {},
    }


def groups_of(moto_stack: Any, sub: str) -> list[str]:
    cognito = boto3.client("cognito-idp", region_name="eu-west-3")
    found = cognito.admin_list_groups_for_user(UserPoolId=moto_stack.ref("UserPool"), Username=sub)["Groups"]
    return sorted(group["GroupName"] for group in found)


def test_a_confirmed_sign_up_joins_the_pro_group(moto_stack: Any, trigger: Any) -> None:
    sub = signed_up(moto_stack, "libraire@example.org")
    sent = event(moto_stack, sub, "libraire@example.org", "PostConfirmation_ConfirmSignUp")

    answer = trigger.lambda_handler(copy.deepcopy(sent), FakeContext())

    assert answer == sent
    assert groups_of(moto_stack, sub) == ["pro"]


def test_a_second_confirmation_leaves_one_membership(moto_stack: Any, trigger: Any) -> None:
    sub = signed_up(moto_stack, "libraire@example.org")
    sent = event(moto_stack, sub, "libraire@example.org", "PostConfirmation_ConfirmSignUp")

    trigger.lambda_handler(copy.deepcopy(sent), FakeContext())
    trigger.lambda_handler(copy.deepcopy(sent), FakeContext())

    assert groups_of(moto_stack, sub) == ["pro"]


def test_a_confirmed_password_reset_changes_nothing(moto_stack: Any, trigger: Any) -> None:
    sub = signed_up(moto_stack, "libraire@example.org")
    sent = event(moto_stack, sub, "libraire@example.org", "PostConfirmation_ConfirmForgotPassword")

    answer = trigger.lambda_handler(copy.deepcopy(sent), FakeContext())

    assert answer == sent
    assert groups_of(moto_stack, sub) == []


def test_an_admin_keeps_their_groups_after_a_password_reset(moto_stack: Any, trigger: Any) -> None:
    sub = signed_up(moto_stack, "agent@example.org")
    cognito = boto3.client("cognito-idp", region_name="eu-west-3")
    cognito.admin_add_user_to_group(UserPoolId=moto_stack.ref("UserPool"), Username=sub, GroupName="admin")

    trigger.lambda_handler(
        event(moto_stack, sub, "agent@example.org", "PostConfirmation_ConfirmForgotPassword"), FakeContext()
    )

    assert groups_of(moto_stack, sub) == ["admin"]
