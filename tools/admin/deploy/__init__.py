"""Package, deploy and tear down Modex on AWS with CloudFormation.

    python -m tools.admin.deploy wheelhouse               # Linux wheels for the Lambda package (needs PyPI)
    python -m tools.admin.deploy package --stage dev      # build/dev/sam.yaml + deployment.zip, offline
    python -m tools.admin.deploy deploy  --stage dev      # network, app, migrate, edge, frontend, invalidate
    python -m tools.admin.deploy outputs --stage dev      # the deployed stage's outputs as JSON
    python -m tools.admin.deploy destroy --stage dev      # everything but the database's final snapshot

Four stacks per stage (docs/deploy.md explains the split):
  modex-<stage>-network   infra/network-database.yaml: VPC, Secrets Manager endpoint, RDS, proxy
  modex-<stage>-app       `chalice package` output merged with infra/chalice-merge.yaml
  modex-<stage>-edge      infra/edge-waf.yaml: CloudFront's web ACL, always in us-east-1
  modex-<stage>-frontend  infra/frontend.yaml: private bucket + CloudFront, /api/* to the API
Per-stage parameters live in infra/params/<stage>.json. Every AWS call goes through a boto3
client passed in, so the pieces are testable with moto.

  settings.py   paths, DeployError, stack names, per-stage parameters, reserved concurrency vs the quota
  packaging.py  wheelhouse, `chalice package`, the code's S3 location, artifacts bucket and upload
  stacks.py     CloudFormation: describe, outputs, create/update/delete, stack events as they come
  frontend.py   publishing the frontend: content types, cache headers, config.js, CloudFront invalidation
  cli.py        the deploy/outputs/destroy workflows and the argparse main (__main__.py runs it)
"""
