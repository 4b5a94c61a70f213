"""CloudFormation stacks: describe, outputs, create or update and delete with waiters, failure events."""
import sys

from .settings import DeployError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # IAM roles; the SAM transform


def describe_stack(cfn, name: str):
    """The stack's description, or None when there is no such (live) stack."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def stack_outputs(cfn, name: str) -> dict:
    """{OutputKey: OutputValue} of a deployed stack."""
    stack = describe_stack(cfn, name)
    if stack is None:
        raise DeployError(f"stack {name} is not deployed (run `make deploy STAGE=...` first)")
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def _waiter_config(delay: float) -> dict:
    return {"Delay": max(1, int(delay)), "MaxAttempts": 720}


def failure_events(cfn, name: str, limit: int = 10) -> str:
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except Exception:  # the stack may be gone already; the caller reports what it has
        return ""
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("_FAILED")][:limit]
    return "\n".join(f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in failed)


def deploy_stack(cfn, name: str, parameters: dict, template_body: str = None, template_url: str = None,
                 capabilities=(), tags: dict = None, delay: float = 10) -> str:
    """Creates the stack, or updates it in place, and waits until CloudFormation is done.

    Returns "created", "updated" or "unchanged". A stack left in ROLLBACK_COMPLETE by a failed
    first attempt cannot be updated, so it is deleted and created again.
    """
    stack = describe_stack(cfn, name)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        print(f"deploy: {name} is in ROLLBACK_COMPLETE after a failed create; deleting it first", file=sys.stderr)
        delete_stack(cfn, name, delay=delay)
        stack = None
    request = dict(
        StackName=name,
        Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in sorted(parameters.items())],
        Capabilities=list(capabilities),
        Tags=[{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())],
    )
    if template_url:
        request["TemplateURL"] = template_url
    else:
        request["TemplateBody"] = template_body
    if stack is None:
        cfn.create_stack(OnFailure="ROLLBACK", **request)
        waiter, status = "stack_create_complete", "created"
    else:
        try:
            cfn.update_stack(**request)
        except cfn.exceptions.ClientError as exc:
            if "No updates are to be performed" in str(exc):
                return "unchanged"
            raise DeployError(f"{name}: update refused: {exc}") from exc
        waiter, status = "stack_update_complete", "updated"
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=_waiter_config(delay))
    except Exception as exc:
        raise DeployError(f"{name}: deployment failed:\n{failure_events(cfn, name)}") from exc
    return status


def delete_stack(cfn, name: str, delay: float = 10) -> bool:
    """Deletes a stack and waits; False when there was none."""
    if describe_stack(cfn, name) is None:
        return False
    cfn.delete_stack(StackName=name)
    try:
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=_waiter_config(delay))
    except Exception as exc:
        raise DeployError(f"{name}: delete failed:\n{failure_events(cfn, name)}") from exc
    return True
