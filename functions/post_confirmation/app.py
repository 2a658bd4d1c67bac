"""Cognito post-confirmation trigger: a person who signed up on the pro portal and confirmed their email joins the
`pro` group. The group alone grants nothing: a pro sees an offerer only once they created it or were attached to it.

Cognito calls this synchronously after `ConfirmSignUp` (trigger source `PostConfirmation_ConfirmSignUp`) and after a
confirmed forgotten password (`PostConfirmation_ConfirmForgotPassword`), which changes nothing here. It must answer
the event itself; an error is shown to the person as a failed confirmation (their account stays confirmed, and
`AdminAddUserToGroup` is idempotent: the next confirmation or an admin adds the group)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture import aws
from pass_culture.observability import entry, logger
from pass_culture.settings import require_at_init

require_at_init()

PRO_GROUP = "pro"
SIGN_UP = "PostConfirmation_ConfirmSignUp"


@entry()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("triggerSource") != SIGN_UP:
        return event
    # the pool and the user come from the event: the function cannot name its pool (the pool names the function)
    aws.client("cognito-idp").admin_add_user_to_group(
        UserPoolId=event["userPoolId"], Username=event["userName"], GroupName=PRO_GROUP
    )
    logger.info("pro signed up", extra={"userSub": event.get("request", {}).get("userAttributes", {}).get("sub")})
    return event
