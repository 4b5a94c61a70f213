"""CloudFormation stacks: describe, outputs, create or update and delete, their events as they come."""
import sys
import time

from .settings import DeployError, aws_error

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # IAM roles; the SAM transform
# CloudFormation gives up on a stack long before this; the bound is for a wait that went wrong.
WAIT_LIMIT_S = 3 * 3600


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


def latest_event_id(cfn, stack_id: str):
    """The id of the stack's newest event (None when it has none): where the next wait starts."""
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return events[0]["EventId"] if events else None


def events_after(cfn, stack_id: str, last_event_id) -> list:
    """The stack's events newer than last_event_id, oldest first. The API lists newest first,
    page by page, so paging stops at the last event already shown."""
    new = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack_id):
        for event in page["StackEvents"]:
            if event["EventId"] == last_event_id:
                return new[::-1]
            new.append(event)
    return new[::-1]


def format_event(event: dict) -> str:
    """One event on one line: local time, logical id, resource type, status, reason."""
    when = event["Timestamp"].astimezone().strftime("%H:%M:%S")
    return (f"  {when}  {event['LogicalResourceId']:<30} {event['ResourceType']:<40} "
            f"{event['ResourceStatus']:<20} {event.get('ResourceStatusReason', '')}").rstrip()


def wait_for_stack(cfn, stack_id: str, last_event_id, delay: float = 10) -> str:
    """Polls the stack until it is no longer *_IN_PROGRESS, printing each new event as it
    comes (a new database takes 15-20 minutes: the events show it is getting on), and returns
    the final status. By id, because a deleted stack is no longer found by its name."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        # The status first: the events read after a final status include the final event.
        status = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        for event in events_after(cfn, stack_id, last_event_id):
            print(format_event(event), file=sys.stderr)
            last_event_id = event["EventId"]
        if not status.endswith("_IN_PROGRESS"):
            return status
        if time.monotonic() > deadline:
            raise DeployError(f"{stack_id} is still {status} after {WAIT_LIMIT_S // 3600} hours; "
                              f"see the CloudFormation console")
        time.sleep(delay)


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
    action = "create" if stack is None else "update"
    try:
        if stack is None:
            stack_id, last_event_id = cfn.create_stack(OnFailure="ROLLBACK", **request)["StackId"], None
        else:
            stack_id, last_event_id = stack["StackId"], latest_event_id(cfn, stack["StackId"])
            cfn.update_stack(**request)
    except cfn.exceptions.ClientError as error:
        if "No updates are to be performed" in str(error):
            return "unchanged"
        raise DeployError(
            f"{name}: CloudFormation refused to {action} the stack ({aws_error(error)}); check the "
            f"stage's parameters (infra/params/) and that your credentials may {action} it "
            f"(docs/deploy.md, Prerequisites), then deploy again") from error
    status = wait_for_stack(cfn, stack_id, last_event_id, delay)
    if status != f"{action.upper()}_COMPLETE":
        raise DeployError(f"{name}: deployment failed ({status}):\n{failure_events(cfn, stack_id)}")
    return action + "d"


def delete_stack(cfn, name: str, delay: float = 10) -> bool:
    """Deletes a stack and waits; False when there was none."""
    stack = describe_stack(cfn, name)
    if stack is None:
        return False
    last_event_id = latest_event_id(cfn, stack["StackId"])
    try:
        cfn.delete_stack(StackName=stack["StackId"])
    except cfn.exceptions.ClientError as error:
        raise DeployError(
            f"{name}: CloudFormation refused to delete the stack ({aws_error(error)}); check that your "
            f"credentials may delete it (cloudformation:DeleteStack and the resources' own delete "
            f"actions), then destroy again") from error
    status = wait_for_stack(cfn, stack["StackId"], last_event_id, delay)
    if status != "DELETE_COMPLETE":
        raise DeployError(f"{name}: delete failed ({status}):\n{failure_events(cfn, stack['StackId'])}")
    return True
