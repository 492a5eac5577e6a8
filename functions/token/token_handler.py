"""Placeholder until the real handler lands; lets `sam build` package the function."""


def lambda_handler(event, context):
    return {"statusCode": 503, "body": "not implemented"}
