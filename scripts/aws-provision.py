#!/usr/bin/env python3
"""Creates what Tablero's AWS backend expects on moto's server (on AWS the
stack of packaging/aws/tablero.template.json does it): three versioned
buckets, the model package group, an API Gateway usage plan, the
endpoint's ECS cluster, task definition and service, its log group and
alarms, and points a workspace at them. Run with the python that has moto
(boto3 comes with it). moto never rolls an ECS deployment out, so the
workspace's promotions return once the service is updated
(rollout_timeout_s = 0).

  aws-provision.py workspace --endpoint URL --workspace DIR [--name NAME]
      writes [backend] kind = "aws" and the [aws] table into DIR/tablero.toml
      ([aws.roles]: tablero-analyst, tablero-ml-lead, tablero-ops, tablero-admin)
  aws-provision.py compute --workspace DIR --lambda-url URL
      adds [aws.compute] to DIR/tablero.toml: the ETL function on the local
      Lambda at URL (scripts/lambda-emulator.py; moto does not run a
      function's code), training jobs on moto's SageMaker
  aws-provision.py credentials --endpoint URL --role ROLE --session NAME
      prints `export AWS_...` lines for ROLE assumed with session name NAME
  aws-provision.py buckets --workspace DIR
      prints `export TABLERO_RAW_BUCKET=...` (and clean, models) lines
"""
import argparse
import os
import sys

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )


def workspace(args):
    name = args.name
    s3 = client("s3", args.endpoint)
    buckets = {b: f"{name}-{b}" for b in ("raw", "clean", "models")}
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    group = f"{name}-models"
    client("sagemaker", args.endpoint).create_model_package_group(ModelPackageGroupName=group)
    apigw = client("apigateway", args.endpoint)
    api = apigw.create_rest_api(name=f"{name}-endpoint")
    plan = apigw.create_usage_plan(name=f"{name}-keys", throttle={"rateLimit": 1000.0, "burstLimit": 2000})
    endpoint = provision_endpoint(name, args.endpoint)
    config = os.path.join(args.workspace, "tablero.toml")
    text = open(config).read()
    # [backend] may already say local: replace it.
    lines, skip = [], False
    for line in text.splitlines():
        if line.strip().startswith("["):
            skip = line.strip() in ("[backend]",) or line.strip().startswith("[aws")
        if not skip:
            lines.append(line)
    lines += [
        "",
        "[backend]",
        'kind = "aws"',
        "",
        "[aws]",
        f'region = "{REGION}"',
        f'endpoint_url = "{args.endpoint}"',
        f'model_package_group = "{group}"',
        f'rest_api_id = "{api["id"]}"',
        f'usage_plan_id = "{plan["id"]}"',
        "",
        "[aws.buckets]",
        f'raw = "{buckets["raw"]}"',
        f'clean = "{buckets["clean"]}"',
        f'models = "{buckets["models"]}"',
        "",
        "[aws.roles]",
        'tablero-analyst = ["analyst"]',
        'tablero-ml-lead = ["ml_lead"]',
        'tablero-ops = ["ops"]',
        'tablero-admin = ["analyst", "ml_lead", "ops"]',
        "",
        "[aws.endpoint]",
        f'cluster = "{endpoint["cluster"]}"',
        f'service = "{endpoint["service"]}"',
        f'log_group = "{endpoint["log_group"]}"',
        f'alarm_prefix = "{name}"',
        f'url = "https://{api["id"]}.execute-api.{REGION}.amazonaws.com/prod"',
        "rollout_timeout_s = 0",
        "",
    ]
    with open(config + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(config + ".tmp", config)
    print(f"{config}: buckets {', '.join(buckets.values())}; group {group}; usage plan {plan['id']}")


def provision_endpoint(name, url):
    """The endpoint's cluster, task definition (nothing served yet) and
    service, log group and the stack's three alarms."""
    ecs = client("ecs", url)
    cluster = name
    family = f"{name}-serve"
    ecs.create_cluster(clusterName=cluster)
    env = {
        "MODEL_URI": "",
        "MODEL_VERSION": "",
        "TABLERO_AUTH": "gateway",
        "TABLERO_METRICS": "emf",
        "TABLERO_ENDPOINT": "tablero",
    }
    td = ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="1024",
        taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}-task",
        executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}-execution",
        containerDefinitions=[
            {
                "name": "serve",
                "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}-serve:latest",
                "essential": True,
                "command": ["--host", "0.0.0.0", "--port", "8080", "--metrics-interval", "60"],
                "portMappings": [{"containerPort": 8080}],
                "environment": [{"name": k, "value": v} for k, v in env.items()],
            }
        ],
    )
    ecs.create_service(
        cluster=cluster,
        serviceName=family,
        taskDefinition=td["taskDefinition"]["taskDefinitionArn"],
        desiredCount=1,
        launchType="FARGATE",
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
    )
    log_group = f"/tablero/{name}/serve"
    client("logs", url).create_log_group(logGroupName=log_group)
    cw = client("cloudwatch", url)
    # The thresholds of tablero_core::monitor::AlarmRules::default().
    for rule, metric, stat, threshold in (
        ("feature-drift", "MaxFeaturePSI", "Maximum", 0.25),
        ("error-rate", "Errors", "Sum", 0.01),
        ("latency-p99", "Latency", "Maximum", 250.0),
    ):
        cw.put_metric_alarm(
            AlarmName=f"{name}-{rule}",
            Namespace="Tablero",
            MetricName=metric,
            Dimensions=[{"Name": "Endpoint", "Value": "tablero"}],
            Statistic=stat,
            Period=3600,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator="GreaterThanThreshold",
        )
    return {"cluster": cluster, "service": family, "log_group": log_group}


def compute(args):
    config = os.path.join(args.workspace, "tablero.toml")
    text = open(config).read()
    if "[aws.compute]" in text:
        return
    text += "\n".join(
        [
            "",
            "[aws.compute]",
            'etl_function = "tablero-etl"',
            f'lambda_endpoint_url = "{args.lambda_url}"',
            f'training_image = "{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/tablero-train:1"',
            f'training_role_arn = "arn:aws:iam::{ACCOUNT}:role/tablero-sagemaker"',
            "poll_s = 1",
            "",
        ]
    )
    with open(config + ".tmp", "w") as f:
        f.write(text)
    os.replace(config + ".tmp", config)


def buckets(args):
    import tomllib

    with open(os.path.join(args.workspace, "tablero.toml"), "rb") as f:
        names = tomllib.load(f)["aws"]["buckets"]
    for b in ("raw", "clean", "models"):
        print(f"export TABLERO_{b.upper()}_BUCKET={names[b]}")


def credentials(args):
    sts = client("sts", args.endpoint)
    out = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{args.role}", RoleSessionName=args.session)
    c = out["Credentials"]
    print(f"export AWS_ACCESS_KEY_ID={c['AccessKeyId']}")
    print(f"export AWS_SECRET_ACCESS_KEY={c['SecretAccessKey']}")
    print(f"export AWS_SESSION_TOKEN={c['SessionToken']}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("workspace")
    w.add_argument("--endpoint", required=True)
    w.add_argument("--workspace", required=True)
    w.add_argument("--name", default="tablero")
    c = sub.add_parser("credentials")
    c.add_argument("--endpoint", required=True)
    c.add_argument("--role", required=True)
    c.add_argument("--session", required=True)
    m = sub.add_parser("compute")
    m.add_argument("--workspace", required=True)
    m.add_argument("--lambda-url", required=True)
    b = sub.add_parser("buckets")
    b.add_argument("--workspace", required=True)
    args = p.parse_args()
    {"workspace": workspace, "credentials": credentials, "compute": compute, "buckets": buckets}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
