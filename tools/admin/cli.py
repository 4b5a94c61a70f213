"""Admin CLI: `python -m tools.admin create-show --name N --start ISO8601 (--layout FILE |
--rows R --seats-per-row S) [--hold-minutes M] [--max-seats-per-user K]`.

Locally it calls the same service code as the `create_show` Lambda function, against
DATABASE_URL or the embedded PostgreSQL; with `--function-name F` it invokes the deployed
function through boto3, in the region the deploy tool would use (`--region`, else AWS_REGION,
else AWS_DEFAULT_REGION, else the AWS profile's). Prints the show as JSON; bad input: one line
on stderr, exit 2.
"""
import argparse
import json
import os
import sys

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
# A room of up to 100,000 seats goes in with one statement: the create_show function's own
# statement timeout (.chalice/config.json), not a booking's 5 s.
CREATE_SHOW_STATEMENT_TIMEOUT_MS = "50000"


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        print(f"error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def parse_args(argv):
    parser = OneLineParser(prog="python -m tools.admin", description="Modex admin commands")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    create = commands.add_parser("create-show", help="create a show and its seats")
    create.add_argument("--name", required=True)
    create.add_argument("--start", required=True, help="ISO-8601 with a UTC offset, e.g. 2030-05-01T20:00:00Z")
    room = create.add_mutually_exclusive_group(required=True)
    room.add_argument("--layout", metavar="FILE", help="a venue layout (JSON), e.g. layouts/theatre.json")
    room.add_argument("--rows", type=int, help="1-26 (labelled A, B, C...): one section, one category at price 0")
    create.add_argument("--seats-per-row", type=int, help="1-100, with --rows")
    create.add_argument("--hold-minutes", type=int, help="how long a hold lasts, 1-60 (default 10)")
    create.add_argument("--max-seats-per-user", type=int, help="held plus booked seats per user id, 1-100 (default 10)")
    create.add_argument("--function-name", help="invoke this deployed create_show Lambda instead")
    create.add_argument("--region", help="with --function-name: the function's region (default AWS_REGION, "
                                         "else AWS_DEFAULT_REGION, else the AWS profile's), as for the deploy tool")
    args = parser.parse_args(argv)
    if (args.rows is None) != (args.seats_per_row is None):
        parser.error("--rows and --seats-per-row go together")
    return args


def _read_layout(path: str):
    try:
        with open(path, encoding="utf-8") as layout_file:
            return json.load(layout_file)
    except OSError as error:
        raise AdminError(f"cannot read {path}: {error.strerror}", EXIT_BAD_INPUT) from None
    except ValueError as error:
        raise AdminError(f"{path} is not valid JSON: {error}", EXIT_BAD_INPUT) from None


def create_show_event(args) -> dict:
    event = {"name": args.name, "startTime": args.start}
    if args.layout is not None:
        event["layout"] = _read_layout(args.layout)
    else:
        event.update(rows=args.rows, seatsPerRow=args.seats_per_row)
    settings = {"holdMinutes": args.hold_minutes, "maxSeatsPerUser": args.max_seats_per_user}
    return {**event, **{name: value for name, value in settings.items() if value is not None}}


class AdminError(Exception):
    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code


def create_show_locally(event: dict) -> dict:
    from chalicelib import db, schema, services, validation
    from chalicelib.errors import ModexError
    from tools.local import localdb

    try:
        request = validation.show_request(event)
    except ModexError as error:
        raise AdminError(error.message, EXIT_BAD_INPUT) from None
    os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", CREATE_SHOW_STATEMENT_TIMEOUT_MS)
    db.configure(None)
    with localdb.server_url() as admin_url:
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = localdb.create_database(admin_url, "modex", exist_ok=True)
            db.configure(None)
        schema.migrate()
        try:
            return services.create_show(request).to_json()
        finally:
            db.close()


def create_show_remotely(function_name: str, event: dict, lambda_client=None, region: str = None) -> dict:
    # The deploy tool's region resolution, so that the show goes to the stage `make deploy`
    # made: boto3 alone would ignore AWS_REGION, which docs/deploy.md tells users to set.
    from tools.admin.deploy.cli import session
    from tools.admin.deploy.settings import AWS_ERRORS, DeployError, aws_error

    try:
        if lambda_client is None:
            lambda_client = session(region).client("lambda")
        response = lambda_client.invoke(FunctionName=function_name, InvocationType="RequestResponse",
                                        Payload=json.dumps(event).encode())
    except DeployError as error:
        raise AdminError(str(error), EXIT_FAILED) from None
    except AWS_ERRORS as error:
        raise AdminError(f"cannot invoke {function_name}: {aws_error(error)}", EXIT_FAILED) from None
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        error_type = (payload or {}).get("errorType", "")
        message = (payload or {}).get("errorMessage", "the function failed")
        exit_code = EXIT_BAD_INPUT if error_type == "VALIDATION_ERROR" else EXIT_FAILED
        raise AdminError(message, exit_code)
    return payload


def main(argv=None, lambda_client=None) -> int:
    args = parse_args(argv)
    try:
        event = create_show_event(args)
        if args.function_name:
            show = create_show_remotely(args.function_name, event, lambda_client, args.region)
        else:
            show = create_show_locally(event)
    except AdminError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    print(json.dumps(show, indent=2))
    return 0

