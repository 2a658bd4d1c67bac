"""What a function's first AWS call adds to its cold start: boto3 imported and one client built (lazily, on use)."""

from pass_culture import aws

aws.dynamodb()
