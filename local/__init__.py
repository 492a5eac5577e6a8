"""The local stack behind `make run`: template.yaml's API, functions, tables and secrets on one
machine, with moto standing in for AWS and oidc-provider-mock for the sign-in provider.

    cfn_yaml     reads template.yaml into plain data
    intrinsics   evaluates Ref, Fn::Sub, Fn::If... against local values
    parameters   template parameters, and settings given in the environment
    resources    tables, secrets and the functions' environment, made from the template
    aws          moto's server, answering one request at a time as DynamoDB would
    functions    the template's functions, and running one in this process (for tests)
    environments each function in worker processes, as Lambda's execution environments
    worker       the worker process: imports a handler once and handles events one at a time
    routes       the HTTP API's route table, matched as API Gateway matches it
    events       requests as payload 2.0 events, handler results as responses
    gateway      the HTTP server in front of it all
    provider     the mock OpenID Connect provider
    stack        start and stop everything, in this process or a child one
"""
