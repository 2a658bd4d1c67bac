"""The identity provider (Cognito in AWS, moto's Cognito locally) behind the one operation accounts need."""

from __future__ import annotations

import re
from typing import Any, Protocol


class IdentityProvider(Protocol):
    def ensure_user(self, email: str, first_name: str, last_name: str, phone: str, group: str) -> str:
        """The user's subject (`sub`), creating the user if needed; the user ends up in `group`."""
        ...


def e164(phone: str) -> str | None:
    """French numbers as Cognito wants them (+33…); None when the number cannot be put in that form."""
    digits = re.sub(r"[ .-]", "", phone)
    if re.fullmatch(r"\+\d{8,15}", digits):
        return digits
    if re.fullmatch(r"0\d{9}", digits):
        return "+33" + digits[1:]
    return None


class CognitoIdentityProvider:
    def __init__(self, client: Any, user_pool_id: str) -> None:
        self._client = client
        self._pool = user_pool_id

    def ensure_user(self, email: str, first_name: str, last_name: str, phone: str, group: str) -> str:
        try:
            user = self._client.admin_get_user(UserPoolId=self._pool, Username=email)
            attributes = user["UserAttributes"]
        except self._client.exceptions.UserNotFoundException:
            wanted = [
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "given_name", "Value": first_name},
                {"Name": "family_name", "Value": last_name},
            ]
            if number := e164(phone):
                wanted.append({"Name": "phone_number", "Value": number})
            # Cognito emails the invitation with a temporary password.
            attributes = self._client.admin_create_user(UserPoolId=self._pool, Username=email, UserAttributes=wanted)[
                "User"
            ]["Attributes"]
        self._client.admin_add_user_to_group(UserPoolId=self._pool, Username=email, GroupName=group)
        return str(next(a["Value"] for a in attributes if a["Name"] == "sub"))
