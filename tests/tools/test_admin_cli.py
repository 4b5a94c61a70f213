"""The admin CLI's argument handling and its remote path (botocore Stubber and moto: no AWS),
in the deploy tool's region."""
import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from tools.admin import cli as admin

ARGS = ["create-show", "--name", "Gala", "--start", "2031-01-01T20:00:00Z", "--rows", "2", "--seats-per-row", "3",
        "--function-name", "modex-prod-create_show"]
EVENT = {"name": "Gala", "startTime": "2031-01-01T20:00:00Z", "rows": 2, "seatsPerRow": 3}


def payload(document):
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def lambda_client(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.client("lambda")
    with Stubber(client) as stubber:
        yield client, stubber


def expected_invoke():
    return {"FunctionName": "modex-prod-create_show", "InvocationType": "RequestResponse",
            "Payload": json.dumps(EVENT).encode()}


def test_remote_create_show_prints_the_show(lambda_client, capsys):
    client, stubber = lambda_client
    show = {"id": "s1", "name": "Gala", "startTime": "2031-01-01T20:00:00Z", "totalSeats": 6, "availableSeats": 6}
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": payload(show)}, expected_invoke())
    assert admin.main(ARGS, lambda_client=client) == 0
    assert json.loads(capsys.readouterr().out) == show
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("error_type, message, exit_code", [
    ("VALIDATION_ERROR", "startTime must lie in the future.", 2),  # bad input, as locally
    ("Runtime.ExitError", "boom", 1),  # the function itself failed
])
def test_remote_errors_are_one_line(lambda_client, capsys, error_type, message, exit_code):
    client, stubber = lambda_client
    error = {"errorType": error_type, "errorMessage": message}
    stubber.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": payload(error)},
                         expected_invoke())
    assert admin.main(ARGS, lambda_client=client) == exit_code
    assert capsys.readouterr().err == f"error: {message}\n"


@pytest.fixture
def aws_without_the_function(monkeypatch, tmp_path):
    """moto, with the region left to each test and no AWS config of the developer's."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.mark.parametrize("arguments, region", [
    ([], "eu-west-1"),  # AWS_REGION, which boto3 alone ignores, over AWS_DEFAULT_REGION
    (["--region", "ap-south-1"], "ap-south-1"),
])
def test_remote_create_show_invokes_in_the_deploy_tools_region(aws_without_the_function, monkeypatch, capsys,
                                                                arguments, region):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert admin.main(ARGS + arguments) == 1  # moto has no such function: its ARN names the region asked
    assert capsys.readouterr().err == (
        "error: cannot invoke modex-prod-create_show: ResourceNotFoundException: Function not found: "
        f"arn:aws:lambda:{region}:123456789012:function:modex-prod-create_show\n")


def test_remote_create_show_without_a_region_is_one_line(aws_without_the_function, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert admin.main(ARGS) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no AWS region: set AWS_REGION") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["create-show"], ARGS[:-2] + ["--rows", "many"], ["nope"]])
def test_bad_arguments_are_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        admin.main(argv)
    assert exited.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_local_validation_error_is_one_line_and_exit_2(capsys):
    argv = ["create-show", "--name", "Gala", "--start", "2001-01-01T20:00:00Z", "--rows", "2", "--seats-per-row", "3"]
    assert admin.main(argv) == 2  # refused before any database is touched
    assert capsys.readouterr().err == "error: startTime must lie in the future.\n"


def test_a_layout_file_goes_into_the_event_whole(lambda_client, capsys, tmp_path):
    client, stubber = lambda_client
    layout = {"currency": "EUR", "categories": [{"id": "A", "name": "A", "price": 100}],
              "sections": [{"name": "Hall", "rows": [{"label": "1", "seats": 3, "category": "A"}]}]}
    path = tmp_path / "hall.json"
    path.write_text(json.dumps(layout))
    event = {"name": "Gala", "startTime": "2031-01-01T20:00:00Z", "layout": layout, "holdMinutes": 15}
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": payload({"id": "s2"})},
                         {**expected_invoke(), "Payload": json.dumps(event).encode()})
    argv = ["create-show", "--name", "Gala", "--start", "2031-01-01T20:00:00Z", "--layout", str(path),
            "--hold-minutes", "15", "--function-name", "modex-prod-create_show"]
    assert admin.main(argv, lambda_client=client) == 0
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("layout_text, message", [
    (None, "error: cannot read {path}: No such file or directory\n"),
    ("{not json", "error: {path} is not valid JSON: "),
])
def test_an_unreadable_layout_file_is_one_line_and_exit_2(tmp_path, capsys, layout_text, message):
    path = tmp_path / "layout.json"
    if layout_text is not None:
        path.write_text(layout_text)
    argv = ["create-show", "--name", "Gala", "--start", "2031-01-01T20:00:00Z", "--layout", str(path)]
    assert admin.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(path=path)) and err.count("\n") == 1


@pytest.mark.parametrize("room", [["--rows", "2"], ["--layout", "x.json", "--rows", "2", "--seats-per-row", "3"]])
def test_rows_and_seats_per_row_go_together_and_not_with_a_layout(room, capsys):
    with pytest.raises(SystemExit) as exited:
        admin.main(["create-show", "--name", "Gala", "--start", "2031-01-01T20:00:00Z", *room])
    assert exited.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
